"""SQLAlchemy implementations of the repository ports (``service_layer/unit_of_work.py``), one
module per aggregate; ``eod_sql.py`` is end of day as set-based SQL."""

from loomcredit.adapters.repositories._base import Tx
from loomcredit.adapters.repositories.alerts import SqlAlertRepository
from loomcredit.adapters.repositories.applications import SqlApplicationRepository
from loomcredit.adapters.repositories.approvals import SqlApprovalRepository
from loomcredit.adapters.repositories.audit import SqlAuditLog
from loomcredit.adapters.repositories.book import SqlBookRepository
from loomcredit.adapters.repositories.cases import SqlCaseRepository
from loomcredit.adapters.repositories.contacts import SqlContactRepository
from loomcredit.adapters.repositories.eod_sql import bucket_case, close_day_sql, floor_case
from loomcredit.adapters.repositories.follow_up import SqlFollowUpRepository
from loomcredit.adapters.repositories.ledger import SqlLedgerRepository
from loomcredit.adapters.repositories.limit_reviews import SqlLimitReviewRepository
from loomcredit.adapters.repositories.lines import SqlCreditLineRepository
from loomcredit.adapters.repositories.loans import SqlLoanRepository
from loomcredit.adapters.repositories.notices import SqlNoticeRepository
from loomcredit.adapters.repositories.payments import SqlPaymentRepository
from loomcredit.adapters.repositories.receipts import SqlReceiptRepository
from loomcredit.adapters.repositories.users import SqlUserRepository

__all__ = [
    "SqlAlertRepository",
    "SqlApplicationRepository",
    "SqlApprovalRepository",
    "SqlAuditLog",
    "SqlBookRepository",
    "SqlCaseRepository",
    "SqlContactRepository",
    "SqlCreditLineRepository",
    "SqlFollowUpRepository",
    "SqlLedgerRepository",
    "SqlLimitReviewRepository",
    "SqlLoanRepository",
    "SqlNoticeRepository",
    "SqlPaymentRepository",
    "SqlReceiptRepository",
    "SqlUserRepository",
    "Tx",
    "bucket_case",
    "close_day_sql",
    "floor_case",
]
