"""Tables of the works domain: example works, the edges of their lineage DAG, previews."""

from __future__ import annotations

import enum

from sqlalchemy import Float, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.communities.models import Community
from app.db import Base, created_at, intpk, str_enum
from app.hiding import Hideable
from app.i18n import N_


class Medium(enum.StrEnum):
    image = "image"
    audio = "audio"
    video = "video"
    text = "text"
    model3d = "model3d"
    ai_model = "ai_model"
    other = "other"

    @property
    def label(self) -> str:
        """The medium's name in English, marked for the catalogs: pages show `_(label)`."""
        return MEDIUM_LABELS[self]


MEDIUM_LABELS = {
    Medium.image: N_("Image"),
    Medium.audio: N_("Audio"),
    Medium.video: N_("Video"),
    Medium.text: N_("Text"),
    Medium.model3d: N_("3D model"),
    Medium.ai_model: N_("AI model"),
    Medium.other: N_("Other"),
}


class Work(Hideable, Base):
    __tablename__ = "works"

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    creator_name: Mapped[str] = mapped_column(String(120))
    creator_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2000))
    medium: Mapped[Medium] = mapped_column(str_enum(Medium))
    license: Mapped[str] = mapped_column(String(120), default="")
    content_notes: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    #: The language of its title, description and excerpt; None: not recorded or none.
    language: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]

    community: Mapped[Community] = relationship(lazy="joined")
    creator_user: Mapped[User | None] = relationship(foreign_keys=[creator_user_id], lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id], lazy="joined")

    @property
    def content_note_list(self) -> list[str]:
        return [n.strip() for n in self.content_notes.split(",") if n.strip()]


class WorkParent(Base):
    """An edge of the lineage: `child_id` derives from `parent_id`."""

    __tablename__ = "work_parents"

    child_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class WorkImage(Base):
    """The preview of an image work: the re-encoded image and its thumbnail, stored in the
    database so that every app process serves it and a database backup holds it.

    The bytes are deferred: loading a `WorkImage` (for its digest, in a list) never reads them.
    """

    __tablename__ = "work_images"

    work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    thumb_content_type: Mapped[str] = mapped_column(String(32))
    thumb_width: Mapped[int]
    thumb_height: Mapped[int]
    thumb_data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # SHA-256 (hex) of `data`: the ETag, and the version in the URLs that may be cached forever.
    digest: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
