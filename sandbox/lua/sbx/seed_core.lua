-- The seeded project, its users and their memberships (fixed ids: specs rely on them).
return function(S, seeded)
  local users = S.coll("users")
  local function user(email, first, last, password)
    return users:insert{ email = email, firstname = first, lastname = last, password = password,
      emailverified = true, status = 100 }
  end
  local owner = user("owner@sandbox.test", "Olivia", "Owner", "owner-pass-123")
  local admin = user("admin@sandbox.test", "Adam", "Admin", "admin-pass-123")
  local agent = user("agent@sandbox.test", "Alice", "Agent", "agent-pass-123")
  local agent2 = user("bob@sandbox.test", "Bob", "Builder", "bob-pass-123")
  local agent3 = user("carla@sandbox.test", "Carla", "Away", "carla-pass-123")
  local outsider = user("outsider@sandbox.test", "Otto", "Outsider", "outsider-pass-123")

  local project = S.coll("projects"):insert{ name = "Sandbox Project", status = 100, activeOperatingHours = false,
    settings = { email = { autoSendTranscriptToRequester = false } }, widget = {}, channels = { { name = "chat21" } },
    createdBy = owner._id, profile = require("sbx.plan").default_profile(), attributes = {},
    bannedUsers = {}, defaultLanguage = "en" }

  local pus = S.coll("project_users")
  local function member(u, role, available)
    return pus:insert{ id_project = project._id, id_user = u._id, role = role, roleType = 1,
      user_available = available, profileStatus = "", presence = { status = available and "online" or "offline" },
      attributes = {}, max_assigned_chat = -1, number_assigned_requests = 0, status = "active", trashed = false,
      tags = {}, createdBy = owner._id }
  end
  seeded.project = project
  seeded.users = { owner = owner, admin = admin, agent = agent }
  seeded.more_agents = { agent2, agent3 }
  seeded.outsider = outsider
  seeded.pus = {
    owner = member(owner, "owner", true), admin = member(admin, "admin", true),
    agent = member(agent, "agent", true), bob = member(agent2, "agent", true),
    carla = member(agent3, "agent", false),
  }
  -- the outsider owns another project, so it is a real user but no member of the seeded one
  local other = S.coll("projects"):insert{ name = "Other Project", status = 100, createdBy = outsider._id,
    settings = {}, widget = {}, attributes = {} }
  pus:insert{ id_project = other._id, id_user = outsider._id, role = "owner", roleType = 1, user_available = true,
    status = "active", trashed = false, attributes = {}, tags = {} }
  seeded.other_project = other
end
