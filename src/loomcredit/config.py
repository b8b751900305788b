"""Settings from the environment (read only by entrypoints and bootstrap)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Typed settings; every value has an embedded default so `make demo` needs no setup."""

    model_config = SettingsConfigDict(env_prefix="LOOM_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path(".loom"), description="LOOM_HOME: lake, models, SQLite file")
    database_url: str | None = Field(default=None, description="LOOM_DATABASE_URL; SQLite if unset")
    pii_key: str | None = Field(default=None, description="LOOM_PII_KEY: base64 key for PII")
    pii_key_file: Path | None = Field(default=None, description="LOOM_PII_KEY_FILE")
    audit_key: str | None = Field(
        default=None, description="LOOM_AUDIT_KEY: base64 key of the audit chain (outside the DB)"
    )
    audit_key_file: Path | None = Field(default=None, description="LOOM_AUDIT_KEY_FILE")
    spark_master: str = Field(default="local[2]", description="LOOM_SPARK_MASTER")
    # Notices (还款提醒与逾期通知): with none of these set, notices reach the console inbox only.
    notice_policy_file: Path | None = Field(
        default=None, description="LOOM_NOTICE_POLICY_FILE (default: the shipped Keqiao policy)"
    )
    smtp_host: str | None = Field(default=None, description="LOOM_SMTP_HOST: e-mail notices")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="LOOM_SMTP_PORT")
    smtp_sender: str = Field(
        default="notices@loom.invalid", description="LOOM_SMTP_SENDER: the From address"
    )
    smtp_starttls: bool = Field(default=False, description="LOOM_SMTP_STARTTLS")
    smtp_user: str | None = Field(default=None, description="LOOM_SMTP_USER")
    smtp_password: str | None = Field(default=None, description="LOOM_SMTP_PASSWORD")
    sms_url: str | None = Field(default=None, description="LOOM_SMS_URL: the SMS gateway (POST)")
    sms_token: str | None = Field(default=None, description="LOOM_SMS_TOKEN: its bearer token")

    @property
    def lake(self) -> Path:
        """Root of the lake (raw, integrated, features)."""
        return self.home / "lake"

    @property
    def models_dir(self) -> Path:
        """Where trained model artefacts live."""
        return self.home / "models"

    @property
    def sqlalchemy_url(self) -> str:
        """The operational database URL (SQLite file under LOOM_HOME by default)."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.home / 'loom.db').resolve()}"


def get_settings() -> Settings:
    """Fresh settings from the current environment."""
    return Settings()
