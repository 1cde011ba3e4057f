-- tiledesk.retry: Retry-After parsing (delta seconds and the three HTTP date forms), backoff,
-- and the retry decisions of one call.
local helper = require("spec.helper")
local retry = require("tiledesk.retry")
assert(helper)

describe("retry", function()
  it("parses Retry-After forms", function()
    local now = 784111777 -- Sun, 06 Nov 1994 08:49:37 GMT
    assert.equal(120, retry.parse_retry_after("120", now))
    assert.equal(10, retry.parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now))
    assert.equal(10, retry.parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now))
    assert.equal(10, retry.parse_retry_after("Sun Nov  6 08:49:47 1994", now))
    assert.equal(0, retry.parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now))
    assert.is_nil(retry.parse_retry_after("soon", now))
    assert.is_nil(retry.parse_retry_after(nil, now))
  end)

  it("keeps full-jitter backoff within its bounds", function()
    for n = 1, 8 do
      for _ = 1, 50 do
        local ms = retry.backoff_ms(n, 200, 3000)
        assert.is_true(ms >= 0 and ms <= math.min(3000, 200 * 2 ^ (n - 1)))
      end
    end
    assert.equal(0, retry.backoff_ms(3, 200, 3000, function() return 0 end))
    assert.equal(800, retry.backoff_ms(3, 200, 3000, function() return 1 end))
  end)
  it("read no impossible Retry-After date", function()
    assert.is_nil(retry.parse_retry_after("Mon, 31 Feb 2026 99:99:99 GMT", 0))
    assert.is_nil(retry.parse_retry_after("Mon, 00 Jan 2026 10:00:00 GMT", 0))
    assert.is_nil(retry.parse_retry_after("-5", 0))
    assert.equal(0, retry.parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 10))
  end)

  it("repeats idempotent methods, and writes only when asked", function()
    local p = retry.policy("GET", nil, 2, 100, 1000)
    assert.equal(3, p.attempts)
    assert.is_number(retry.after_failure(p, 1, "connect"))
    assert.is_number(retry.after_failure(p, 2, "timeout"))
    assert.is_nil(retry.after_failure(p, 3, "connect"))
    assert.is_nil(retry.after_failure(p, 1, "tls"))
    local post = retry.policy("POST", nil, 2, 100, 1000)
    assert.is_nil(retry.after_failure(post, 1, "connect"))
    assert.is_nil(retry.after_status(post, 1, 503, {}))
    assert.is_number(retry.after_failure(retry.policy("POST", true, 2, 100, 1000), 1, "connect"))
  end)

  it("waits what Retry-After says, unless it is beyond the policy's max", function()
    local p = retry.policy("GET", nil, 3, 100, 5000)
    assert.equal(2000, retry.after_status(p, 1, 429, { ["retry-after"] = "2" }))
    assert.is_nil(retry.after_status(p, 1, 429, { ["retry-after"] = "6" }))
    assert.is_nil(retry.after_status(p, 1, 500, {}))
    assert.is_nil(retry.after_status(p, 1, 404, {}))
    local ms = retry.after_status(p, 1, 503, {})
    assert.is_true(ms >= 0 and ms <= 100)
  end)
end)
