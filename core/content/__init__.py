"""The content pack: the article, its sections, the position scale and the prompt deck."""

from core.content.loader import ContentError, load_pack, parse_pack

__all__ = ["ContentError", "load_pack", "parse_pack"]
