"""Provisioning API endpoints for MCP sessions, served under /api/v1/ with the tenancy endpoints."""
