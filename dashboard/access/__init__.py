"""Who may log in and what they may see: passwords and single sign-on, lockout, the users file,
roles and province scopes, masking of personal data, and the audit log."""
