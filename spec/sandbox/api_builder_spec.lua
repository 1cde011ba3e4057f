-- The sandbox's bot builders' areas over plain HTTP, where the SDK's checks would stand in the
-- way: uploads as the dashboard sends them, the server's quirks kept on purpose. Expectations
-- from the server's source, named next to each.
local helper = require("spec.helper")

local st = helper.sandbox()
local api = helper.api

local function multipart(file_field, filename, content, fields)
  local b = "sbx-spec-boundary"
  local parts = { "--" .. b .. "\r\n", 'Content-Disposition: form-data; name="' .. file_field .. '"; filename="'
    .. filename .. '"\r\nContent-Type: text/csv\r\n\r\n', content, "\r\n" }
  for _, f in ipairs(fields or {}) do
    parts[#parts + 1] = "--" .. b .. '\r\nContent-Disposition: form-data; name="' .. f[1] .. '"\r\n\r\n' .. f[2] .. "\r\n"
  end
  parts[#parts + 1] = "--" .. b .. "--\r\n"
  return table.concat(parts), { ["content-type"] = "multipart/form-data; boundary=" .. b }
end

describe("sandbox bot builders' areas", function()
  before_each(helper.reset)

  it("uploadcsv reads quoted fields as fast-csv does, the delimiter inside kept (routes/faq.js)", function()
    local _, bot = api("admin", "POST", "/faq_kb", { name = "CSV", type = "tilebot" })
    local body, h = multipart("uploadFile", "i.csv", '"Open; weekends?";"No; closed"\n', { { "id_faq_kb", bot._id } })
    local status, res = api("admin", "POST", "/faq/uploadcsv", body, h)
    assert.equal(200, status)
    assert.same({ success = true, msg = "CSV Parsed" }, res)
    local _, list = api("admin", "GET", "/faq?id_faq_kb=" .. bot._id)
    assert.equal(1, #list)
    assert.equal("Open; weekends?", list[1].question)
    assert.equal("No; closed", list[1].actions[1].text)
  end)

  it("importjson with create takes the uploaded file (routes/faq_kb.js)", function()
    local text = '{"name":"From file","type":"tilebot","intents":[{"intent_display_name":"a","question":"q"}]}'
    local body, h = multipart("uploadFile", "bot.json", text)
    local status, bot = api("admin", "POST", "/faq_kb/importjson/null?create=true", body, h)
    assert.equal(200, status)
    assert.equal("From file", bot.name)
    local _, list = api("admin", "GET", "/faq?id_faq_kb=" .. bot._id)
    assert.equal(1, #list)
  end)

  it("flow logs: an unknown level matches no line; a timestamp needs a direction (services/logsService.js)", function()
    local status, lines = api("agent", "GET", "/logs/flows/some-request?logLevel=trace")
    assert.equal(200, status)
    assert.same({}, lines)
    local s2, err = api("agent", "GET", "/logs/flows/some-request?timestamp=2026-01-01T00:00:00.000Z")
    assert.equal(400, s2)
    assert.same({ success = false, error = "Missing or invalid 'direction' parameter. Use 'prev' or 'next'." }, err)
  end)

  it("data tables: an id that is no ObjectId fails as the cast does, with the action's 500 (routes/dataTable.js)", function()
    local status, body = api("admin", "GET", "/tables/not-an-id")
    assert.equal(500, status)
    assert.same({ success = false, error = "Error finding table" }, body)
  end)

  it("kb list echoes page in its query only when a status was asked (routes/kb.js)", function()
    api("admin", "GET", "/kb/namespace/all")
    local _, plain = api("admin", "GET", "/kb?namespace=" .. st.project_id .. "&page=1&limit=5")
    assert.is_nil(plain.query.page)
    assert.equal(5, plain.query.limit)
    local _, with_status = api("admin", "GET", "/kb?namespace=" .. st.project_id .. "&page=1&limit=5&status=100")
    assert.equal(1, with_status.query.page)
    assert.equal(100, with_status.query.status)
  end)

  it("a trigger PUT to an unknown id creates it (findByIdAndUpdate with upsert)", function()
    local id = "6560f0a1eeeeeeeeeeeeeeee"
    local status, t = api("admin", "PUT", "/modules/triggers/" .. id, { name = "Made by PUT" })
    assert.equal(200, status)
    assert.equal(id, t._id)
    local _, got = api("admin", "GET", "/modules/triggers/" .. id)
    assert.equal("Made by PUT", got.name)
  end)

  it("widgets keeps only the project settings the widget may see (routes/widget.js)", function()
    local put = helper.http_json("PUT", st.http_url .. "/projects/" .. st.project_id,
      { settings = { allow_send_emoji = true, email = { secret = 1 } } }, helper.auth("owner"))
    assert.equal(200, put)
    local status, boot = api(nil, "GET", "/widgets")
    assert.equal(200, status)
    assert.is_true(boot.project.settings.allow_send_emoji)
    for k in pairs(helper.nonempty(boot.project.settings)) do
      assert.truthy(({ allowed_urls = 1, allowed_urls_list = 1, allow_send_emoji = 1, allowed_upload_extentions = 1 })[k], k)
    end
  end)

  it("a dev run drops ?dev from the query it passes on (routes/webhook.js)", function()
    local _, bot = api("admin", "POST", "/faq_kb", { name = "Dev", type = "tilebot" })
    local _, hook = api("admin", "POST", "/webhooks", { chatbot_id = bot._id, block_id = "b1" })
    api("admin", "POST", "/webhooks/preload/" .. hook.webhook_id)
    local status, res = helper.http_json("POST", st.http_url .. "/webhook/" .. hook.webhook_id .. "/dev?dev=true&a=1", { x = 1 })
    assert.equal(200, status)
    assert.same({ a = "1" }, res.payload.webhook_query_params)
    assert.equal("POST", res.payload.webhook_http_method)
    assert.is_true(res.payload.draft)
  end)
end)
