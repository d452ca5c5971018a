"""Entra ID governance and provisioning alerting bot."""
