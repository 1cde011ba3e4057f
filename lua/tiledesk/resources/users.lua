-- The current user (whoever the credentials belong to).
local M = {}
M.routes = {
  { "me", "GET", "/users", scope = "global", doc = "The signed-in user" },
  { "update", "PUT", "/users", scope = "global", body = "required",
    doc = "Update firstname, lastname, attributes, description, public_email, public_website, phone (JSON null is ignored)",
    example = 'client.users:update{ firstname = "Ann", lastname = "Lee", description = "Support lead" }' },
  { "change_password", "PUT", "/users/changepsw", scope = "global", fields = { "oldpsw", "newpsw" }, secret = "request",
    doc = "Change the password",
    example = 'client.users:change_password(old_password, new_password)' },
  { "resend_verification", "GET", "/users/resendverifyemail", scope = "global", doc = "Send the verification email again" },
  { "delete", "DELETE", "/users", scope = "global", doc = "Anonymise and disable the account" },
  { "public_profile", "GET", "/users_util/{}", params = { "user_id" }, scope = "global", auth = "none",
    doc = "Public profile of any user" },
  { "check_auth", "GET", "/testauth", scope = "global", doc = "Check that the credentials work" },
}
return M
