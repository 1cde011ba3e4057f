-- Route options the API modules share (sbx.router: role, types, auth).
return {
  OPEN = { auth = false },
  AGENT = { role = "agent" },
  ADMIN = { role = "admin" },
  -- the role, or a bot's or a subscription's token of the project (hasRoleOrTypes)
  AGENT_OR_TOKENS = { role = "agent", types = { "bot", "subscription" } },
  ADMIN_OR_TOKENS = { role = "admin", types = { "bot", "subscription" } },
}
