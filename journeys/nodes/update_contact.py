"""update_contact: set attributes and add or remove tags."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from journeys.effects import UpdateContact
from journeys.nodes.base import NodeConfig, NodeType, Outcome, StepContext, register

BUILT_INS = frozenset({"email", "tags", "timezone", "locale", "consent", "external_id"})
Tag = str


class UpdateConfig(NodeConfig):
    set: dict[str, Any] = Field(default_factory=dict)
    add_tags: list[Tag] = Field(default_factory=list)
    remove_tags: list[Tag] = Field(default_factory=list)


@register
class UpdateContactNode(NodeType[UpdateConfig]):
    type = "update_contact"
    label = "Update contact"
    form = "nodes/update_contact.html"
    config_model = UpdateConfig

    def checks(self, config: UpdateConfig) -> Iterable[tuple[str, str]]:
        if not (config.set or config.add_tags or config.remove_tags):
            yield "update.empty", "an update needs an attribute to set or a tag to add or remove"
        for name in config.set:
            if name in BUILT_INS or not name.strip() or "." in name:
                yield "update.attribute", f"{name!r} cannot be set here: built-in or not a plain name"
        for tag in [*config.add_tags, *config.remove_tags]:
            if not tag.strip() or len(tag) > 100:
                yield "update.tag", f"tag {tag!r} must be 1 to 100 characters"

    def enter(self, prepared: UpdateConfig, ctx: StepContext) -> Outcome:
        effect = UpdateContact(ctx.effect_key(), ctx.node, dict(prepared.set),
                               tuple(prepared.add_tags), tuple(prepared.remove_tags))
        ctx.effects.append(effect)
        contact = ctx.contact
        contact.attributes = {**contact.attributes, **prepared.set}
        contact.tags = (contact.tags | set(prepared.add_tags)) - set(prepared.remove_tags)
        ctx.contact_changed()  # later rules see the change
        return Outcome.follow("passed")
