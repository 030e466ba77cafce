"""First-run setup for `journeys up`."""
from __future__ import annotations

from sqlalchemy import select

from app import create_app
from app.config import Settings
from app.db import db
from app.models import Role, User
from app.services import users as user_service

FIRST_ADMIN_EMAIL = "admin@example.com"


def ensure_first_admin(settings: Settings) -> tuple[str, str | None]:
    """Create an admin on an empty workspace. Returns (email, password or None if it existed)."""
    app = create_app(settings)
    with app.app_context():
        with db.transaction() as s:
            if user_service.count_users(s):
                admin = s.scalar(select(User).where(User.role == Role.admin)
                                 .order_by(User.id).limit(1))
                return (admin.email if admin else "an existing user", None)
            password = user_service.generate_password()
            user_service.create_user(s, email=FIRST_ADMIN_EMAIL, role="admin", password=password,
                                     name="Admin")
            return FIRST_ADMIN_EMAIL, password
