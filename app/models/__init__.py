"""SQLAlchemy models. Import from here so Alembic sees every table."""
from app.models.audit import AuditEntry
from app.models.base import Base
from app.models.contact import Contact, SubscriptionStatus, normalize_email
from app.models.event import Event
from app.models.user import Role, User, UserSession

__all__ = [
    "AuditEntry", "Base", "Contact", "Event", "Role", "SubscriptionStatus",
    "User", "UserSession", "normalize_email",
]
