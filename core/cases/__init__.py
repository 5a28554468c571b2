"""The use cases, by area; core.service.DebateService puts them together."""
