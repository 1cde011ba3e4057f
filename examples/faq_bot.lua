-- An FAQ bot in one file: a table of intents answered with buttons, and a hand-off to a human.
-- Serve it locally with `./dev bot serve examples/faq_bot.lua`, or see `./dev bot-demo`.
-- Replies are written in Tiledesk's intent-answer format: "* label" lines are buttons,
-- "* label tdIntent:name" buttons run the intent of that name, a URL after a label opens it.
return {
  start = "Hi! I am the Lua FAQ bot. What would you like to know?\n"
    .. "* Prices\n* Opening hours\n* Talk to a human tdIntent:human",

  intents = {
    { name = "prices", match = { "price", "cost", "how much" },
      reply = "Plans start at 9 EUR a month, 90 EUR a year.\n* Compare plans https://example.com/plans\n* Talk to a human tdIntent:human",
      attributes = { faq_topic = "prices" } },
    { name = "hours", match = { "hour", "open", "when" },
      reply = "We answer Monday to Friday, 9:00 to 18:00 (CET)." },
    { name = "human", match = { "human", "agent", "operator", "person" },
      reply = "Sure, I am handing you over to a colleague.", handoff = true },
    { name = "bye", match = { "bye", "thanks", "thank you" },
      reply = function(ctx)
        local name = ctx.lead and ctx.lead.fullname or "there"
        return "You are welcome, " .. name .. "! Bye."
      end },
  },

  fallback = "Sorry, I did not get that.\n* Prices\n* Opening hours\n* Talk to a human tdIntent:human",
}
