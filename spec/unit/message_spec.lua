-- tiledesk.message: the builders and the intent-answer parser against the widget's JSON, as
-- Tiledesk's chatbot utility (@tiledesk/tiledesk-chatbot-util parseReply) documents it with
-- examples in its test suite; the expected values are written here as JSON text.
local helper = require("spec.helper")
local message = require("tiledesk.message")
local cjson = require("cjson")

local function json(text) return cjson.decode(text) end

-- the JSON a value encodes to, decoded again: what the server receives
local function wire(v) return cjson.decode(require("tiledesk.json").encode(v)) end

describe("tiledesk.message builders", function()
  it("text", function()
    assert.same(json('{"text":"Hello","type":"text"}'), wire(message.text("Hello")))
    assert.same(json('{"text":"Hi","type":"text","attributes":{"subtype":"info"},"metadata":{"k":1}}'),
      wire(message.text("Hi", { attributes = { subtype = "info" }, metadata = { k = 1 } })))
  end)

  it("buttons: text, url (blank, parent, self) and action", function()
    local m = message.buttons("Intro text", {
      "Button 1",
      message.button("Button 2"),
      message.url_button("Link button", "http://www.google.com"),
      message.url_button("In parent", "http://www.google-in-parent.com", "parent"),
      message.url_button("In self", "http://www.link-in-self.com", "self"),
      message.action_button("Action Button with text", "INTENT-NAME"),
      message.action_button("Silent", "INTENT-NAME", false),
    })
    assert.same(json([[{"text":"Intro text","type":"text","attributes":{"attachment":{"type":"template","buttons":[
      {"type":"text","value":"Button 1"},
      {"type":"text","value":"Button 2"},
      {"type":"url","value":"Link button","link":"http://www.google.com","target":"blank"},
      {"type":"url","value":"In parent","link":"http://www.google-in-parent.com","target":"parent"},
      {"type":"url","value":"In self","link":"http://www.link-in-self.com","target":"self"},
      {"type":"action","value":"Action Button with text","action":"INTENT-NAME","show_echo":true},
      {"type":"action","value":"Silent","action":"INTENT-NAME","show_echo":false}]}}}]]), wire(m))
  end)

  it("quick replies are text buttons, and keep other attributes", function()
    local m = message.quick_replies("Pick", { "Yes", "No" }, { attributes = { lang = "en" } })
    assert.same(json([[{"text":"Pick","type":"text","attributes":{"lang":"en","attachment":{"type":"template",
      "buttons":[{"type":"text","value":"Yes"},{"type":"text","value":"No"}]}}}]]), wire(m))
  end)

  it("image, frame and video", function()
    assert.same(json('{"text":"","type":"image","metadata":{"src":"https://x.test/a.png"}}'),
      wire(message.image("https://x.test/a.png")))
    assert.same(json('{"text":"A cat","type":"image","metadata":{"src":"https://x.test/a.png","width":100,"height":50}}'),
      wire(message.image("https://x.test/a.png", { text = "A cat", width = 100, height = 50 })))
    assert.same(json('{"text":"","type":"frame","metadata":{"src":"https://FRAME_HOST/PATH"}}'),
      wire(message.frame("https://FRAME_HOST/PATH")))
    assert.same(json('{"text":"","type":"frame","metadata":{"src":"https://www.youtube.com/embed/MHXO86wKeDY","type":"video"}}'),
      wire(message.video("https://www.youtube.com/watch?v=MHXO86wKeDY&disturbing_parameter=fake_value")))
  end)

  it("files as attachments", function()
    assert.same(json([[{"text":"[report.pdf](https://x.test/f/report.pdf)","type":"file",
      "metadata":{"name":"report.pdf","src":"https://x.test/f/report.pdf","type":"application/pdf","size":1234}}]]),
      wire(message.file("https://x.test/f/report.pdf", { mime = "application/pdf", size = 1234 })))
    local img = message.file("https://x.test/p.jpg?sig=1", { mime = "image/jpeg", name = "photo.jpg", text = "look" })
    assert.same(json('{"text":"look","type":"image","metadata":{"name":"photo.jpg","src":"https://x.test/p.jpg?sig=1","type":"image/jpeg"}}'),
      wire(img))
  end)

  it("with_attributes and with_metadata merge into a copy", function()
    local b = message.buttons("Q", { "A" })
    local m = message.with_attributes(b, { intent = "faq_1" })
    assert.equal("faq_1", m.attributes.intent)
    assert.equal("A", m.attributes.attachment.buttons[1].value)
    assert.is_nil(b.attributes.intent)
    local md = message.with_metadata(message.image("https://x.test/a.png"), { width = 10 })
    assert.same({ src = "https://x.test/a.png", width = 10 }, md.metadata)
    assert.same({ text = "x", type = "text" }, message.from("x"))
  end)

  it("refuses bad input with clear messages", function()
    local cases = {
      { function() message.text(3) end, "tiledesk.message.text(): text must be a string, got number" },
      { function() message.button("  ") end, "tiledesk.message.button(): label must be a non-empty string" },
      { function() message.url_button("x", "javascript:alert(1)") end,
        "tiledesk.message.url_button(): link must be an http(s) URL without spaces" },
      { function() message.url_button("x", "https://a.test", "top") end,
        "tiledesk.message.url_button(): target must be blank, parent or self" },
      { function() message.action_button("x", "") end, "tiledesk.message.action_button(): action must be a non-empty string" },
      { function() message.buttons("x", {}) end, "tiledesk.message.buttons(): buttons must be a non-empty array" },
      { function() message.buttons("x", { {} }) end, "tiledesk.message.buttons(): button 1 is not a string or a button table" },
      { function() message.image("https://a.test/x.png", { width = -1 }) end,
        "tiledesk.message.image(): width must be a positive integer" },
      { function() message.image("https://a.test/x.png", { alt = "x" }) end, "tiledesk.message.image(): unknown option alt" },
      { function() message.file("ftp://a.test/x") end, "tiledesk.message.file(): url must be an http(s) URL without spaces" },
      { function() message.parse(nil) end, "tiledesk.message.parse(): text must be a string, got nil" },
    }
    for _, c in ipairs(helper.nonempty(cases)) do assert.has_error(c[1], c[2]) end
  end)
end)

describe("tiledesk.message.parse", function()
  local function parsed(text) return wire((message.parse(text))) end

  it("plain text stays text", function()
    assert.same(json('{"text":"Just text","type":"text"}'), parsed("Just text"))
  end)

  it("documented examples: buttons after an intro", function()
    assert.same(json([[{"text":"Intro text","type":"text","attributes":{"attachment":{"type":"template",
      "buttons":[{"type":"text","value":"Button 1"},{"type":"text","value":"Button 2"}]}}}]]),
      parsed("Intro text\n* Button 1\n* Button 2"))
    assert.same(parsed("Intro text\n* Button 1\n* Button 2"),
      parsed("Intro text\n*   Button 1\n*      Button 2"))
    -- no space after * is not a button (markdown bold/italic)
    assert.same(json('{"text":"Intro text\\n*Button 1\\n*Button 2","type":"text"}'), parsed("Intro text\n*Button 1\n*Button 2"))
  end)

  it("documented examples: link buttons (blank, parent, self)", function()
    local m = parsed("Intro text\n* Link button http://www.google.com\n* Button with text link in parent < "
      .. "http://www.google-in-parent.com\n* Button with text link in self > http://www.link-in-self.com")
    assert.same(json([[{"text":"Intro text","type":"text","attributes":{"attachment":{"type":"template","buttons":[
      {"type":"url","value":"Link button","link":"http://www.google.com","target":"blank"},
      {"type":"url","value":"Button with text link in parent","link":"http://www.google-in-parent.com","target":"parent"},
      {"type":"url","value":"Button with text link in self","link":"http://www.link-in-self.com","target":"self"}]}}}]]), m)
  end)

  it("documented examples: action buttons (tdIntent, tdIntentNoEcho, tdAction, tdActionShowEcho)", function()
    local m = parsed("Intro text\n* Action Button with text tdIntent:INTENT-NAME\n"
      .. "* Action Button with text    tdIntent:  INTENT-NAME  \n* Quiet tdIntentNoEcho:INTENT-NAME\n"
      .. "* Act tdAction:do_it\n* Act loud tdActionShowEcho:do_it\n"
      .. "* Zero points tdIntent:question1_eval{'question1points': 0}")
    assert.same(json([[{"text":"Intro text","type":"text","attributes":{"attachment":{"type":"template","buttons":[
      {"type":"action","value":"Action Button with text","action":"INTENT-NAME","show_echo":true},
      {"type":"action","value":"Action Button with text","action":"INTENT-NAME","show_echo":true},
      {"type":"action","value":"Quiet","action":"INTENT-NAME","show_echo":false},
      {"type":"action","value":"Act","action":"do_it","show_echo":false},
      {"type":"action","value":"Act loud","action":"do_it","show_echo":true},
      {"type":"action","value":"Zero points","action":"question1_eval{'question1points': 0}","show_echo":true}]}}}]]), m)
  end)

  it("documented examples: tdImage, tdFrame, tdVideo with and without size", function()
    assert.same(json('{"text":"Intro text","type":"image","metadata":{"src":"https://IMAGE_HOST/PATH"}}'),
      parsed("Intro text\ntdImage:https://IMAGE_HOST/PATH"))
    assert.same(json('{"text":"Intro text","type":"image","metadata":{"src":"https://h.test/i.png","width":100,"height":50}}'),
      parsed("Intro text\ntdImage,w100 h50:https://h.test/i.png"))
    assert.same(json('{"text":"Intro","type":"image","metadata":{"src":"https://h.test/i.png","height":70}}'),
      parsed("Intro\ntdImage, h70:https://h.test/i.png"))
    assert.same(json('{"text":"answer frame","type":"frame","metadata":{"src":"http://localhost:3014/"}}'),
      parsed("answer frame\ntdFrame:http://localhost:3014/"))
    assert.same(json('{"text":"This is a video MP4:","type":"frame","metadata":{"src":"http://bppmobile.bpp.it/download/vpn/DisabilitaIPV6.mp4"}}'),
      parsed("This is a video MP4:\ntdFrame:http://bppmobile.bpp.it/download/vpn/DisabilitaIPV6.mp4"))
    assert.same(json('{"text":"Intro text","type":"frame","metadata":{"src":"https://VIDEO_HOST/PATH","type":"video"}}'),
      parsed("Intro text\ntdVideo:https://VIDEO_HOST/PATH"))
    assert.same(json('{"text":"Intro text","type":"frame","metadata":{"src":"https://www.youtube.com/embed/MHXO86wKeDY","type":"video"}}'),
      parsed("Intro text\ntdVideo:https://www.youtube.com/watch?v=MHXO86wKeDY&disturbing_parameter=fake_value"))
  end)

  it("documented examples: the older \\image line (default 200x200)", function()
    assert.same(json('{"text":"Intro text","type":"image","metadata":{"src":"http://IMAGE_HOST/IMAGE_PATH","width":200,"height":200}}'),
      parsed("Intro text\n\\image:http://IMAGE_HOST/IMAGE_PATH"))
    assert.same(json('{"text":"x","type":"image","metadata":{"src":"http://i.test/a.gif","width":"100","height":"80"}}'),
      parsed("x\n\\image:100-80:http://i.test/a.gif"))
  end)

  it("documented examples: \\webhook and \\webhook:URL", function()
    local m, hook = message.parse("Message text\n\\webhook:https://WEBHOOK/ENDPOINT")
    assert.same(json('{"text":"Message text","type":"text"}'), wire(m))
    assert.equal("https://WEBHOOK/ENDPOINT", hook)
    m, hook = message.parse("Message text\n\\webhook")
    assert.same(json('{"text":"Message text","type":"text"}'), wire(m))
    assert.is_true(hook)
    assert.is_nil(select(2, message.parse("no hook")))
  end)

  it("an image with buttons, and the text between buttons kept", function()
    assert.same(json([[{"text":"Look\n\n\nthen choose","type":"image","metadata":{"src":"https://h.test/i.png"},
      "attributes":{"attachment":{"type":"template","buttons":[{"type":"text","value":"A"},{"type":"text","value":"B"}]}}}]]),
      parsed("Look\ntdImage:https://h.test/i.png\n* A\nthen choose\n* B"))
  end)

  it("parse agrees with the builders", function()
    assert.same(wire(message.buttons("Pick", { "Yes", message.url_button("Docs", "https://d.test/x") })),
      parsed("Pick\n* Yes\n* Docs https://d.test/x"))
    assert.same(wire(message.image("https://h.test/i.png", { text = "Intro", width = 100, height = 50 })),
      parsed("Intro\ntdImage,w100 h50:https://h.test/i.png"))
  end)

  it("to_plain: text and buttons for channels without a widget", function()
    local text, buttons = message.to_plain(message.parse("Pick\n* Yes\n* Docs https://d.test/x\n* Human tdIntent:handoff"))
    assert.equal("Pick", text)
    assert.same({ { label = "Yes", kind = "text", value = "Yes" }, { label = "Docs", kind = "url", value = "https://d.test/x" },
      { label = "Human", kind = "action", value = "handoff" } }, buttons)
    text, buttons = message.to_plain(message.image("https://h.test/i.png", { text = "A cat" }))
    assert.equal("A cat\nhttps://h.test/i.png", text)
    assert.same({}, buttons)
    text = message.to_plain(message.file("https://h.test/r.pdf"))
    assert.equal("[r.pdf](https://h.test/r.pdf)", text)
  end)
end)
