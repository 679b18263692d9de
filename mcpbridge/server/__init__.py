"""The MCP bridge: a low-level SDK server whose every request goes through one enforcement pipeline."""

from mcpbridge.server.factory import build_server
from mcpbridge.server.runtime import Runtime

__all__ = ["Runtime", "build_server"]
