"""Admin-editable rule packs and the code that renders them into prompts."""

from guardcode.prompts.render import RulePack, RulePackError, load_pack, render_comment_block

__all__ = ["RulePack", "RulePackError", "load_pack", "render_comment_block"]
