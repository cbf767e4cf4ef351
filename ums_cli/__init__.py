"""`ums`: the command line of Serverless UMS (management API, users, local mail)."""
