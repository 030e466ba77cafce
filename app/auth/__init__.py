"""Sign-in, server-side sessions and roles."""
