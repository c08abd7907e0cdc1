"""The technician's page: a password-protected web page with the live picture, doctor, modes and config."""
