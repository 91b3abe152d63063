-- wrk: POST /api/v1/auth/login with the load user's credentials.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"load@example.com","password":"correct horse battery"}'
