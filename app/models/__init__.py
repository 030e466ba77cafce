"""SQLAlchemy models. Import from here so Alembic sees every table."""
from app.models.api_key import ApiKey
from app.models.audit import AuditEntry
from app.models.base import Base
from app.models.bounce import BounceEvent, BounceKind
from app.models.consent import ConsentRecord
from app.models.deliverability import DkimKey, JourneyAlert
from app.models.contact import Contact, SubscriptionStatus, normalize_email
from app.models.enrollment import Enrollment, EnrollmentStep
from app.models.event import Event
from app.models.journey import Journey, JourneyStatus, JourneyVersion
from app.models.message import Message, MessageStatus
from app.models.pending_cart import CartState, PendingCart
from app.models.privacy_request import PrivacyRequest
from app.models.source import ShopDelivery, Source, SourceKind
from app.models.split_winner import SplitWinner
from app.models.suppression import Suppression, email_digest
from app.models.template import Template, TemplateVersion
from app.models.tracking import Engagement, MessageLink, TrackingHit
from app.models.user import Role, User, UserSession
from app.models.webhook_call import WebhookCall, WebhookCallStatus
from app.models.webhook_host import WebhookHost
from app.models.workspace_setting import WorkspaceSetting

__all__ = [
    "ApiKey", "AuditEntry", "Base", "Contact", "Enrollment", "EnrollmentStep", "Event", "Journey",
    "JourneyStatus", "JourneyVersion", "Message", "MessageStatus", "Role", "Suppression",
    "SubscriptionStatus", "Template", "TemplateVersion", "User", "UserSession", "email_digest",
    "WebhookCall", "WebhookCallStatus", "WebhookHost", "normalize_email",
    "CartState", "PendingCart", "PrivacyRequest", "ShopDelivery", "Source", "SourceKind",
    "WorkspaceSetting", "BounceEvent", "BounceKind", "ConsentRecord", "DkimKey", "JourneyAlert",
    "Engagement", "MessageLink", "SplitWinner", "TrackingHit",
]
