"""What the demo writes where: file paths and their columns, in file order."""

from __future__ import annotations

CUSTOMERS = "customers.csv"
PRODUCTS = "products.xlsx"
PRODUCTS_SHEET = "products"
ORDERS = "orders.csv.gz"
ORDER_ITEMS = "order_items.parquet"
PAYMENTS = "payments.ndjson"
WEB_EVENTS_DIR = "web_events"
WEB_EVENTS_GLOB = "web_events/part-*.ndjson.zst"
DROP2_CUSTOMERS = "drop2/customers.csv"
DROP2_ORDERS = "drop2/orders.csv.gz"
MANIFEST = "manifest.json"


def web_events_part(index: int) -> str:
    """Path of one web-events part, relative to the output folder."""
    return f"{WEB_EVENTS_DIR}/part-{index:05d}.ndjson.zst"


CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "signup_date",
    "state",
    "city",
    "zip",
    "is_active",
    "credit_limit",
    "updated_at",
)
# Drop 2 renames phone in place and appends the new column.
DROP2_CUSTOMER_COLUMNS: tuple[str, ...] = (
    *(("phone_number" if c == "phone" else c) for c in CUSTOMER_COLUMNS),
    "loyalty_tier",
)
PRODUCT_COLUMNS: tuple[str, ...] = (
    "product_id",
    "sku",
    "name",
    "category",
    "price",
    "cost",
    "weight_kg",
    "active",
    "created_at",
)
ORDER_COLUMNS: tuple[str, ...] = (
    "order_id",
    "customer_id",
    "order_ts",
    "status",
    "channel",
    "currency",
    "shipping_state",
    "total_amount",
    "updated_at",
)
ORDER_ITEM_COLUMNS: tuple[str, ...] = (
    "order_item_id",
    "order_id",
    "product_id",
    "quantity",
    "unit_price",
    "discount",
)
PAYMENT_COLUMNS: tuple[str, ...] = (
    "payment_id",
    "order_id",
    "method",
    "amount",
    "currency",
    "paid_at",
    "status",
)
WEB_EVENT_COLUMNS: tuple[str, ...] = (
    "event_id",
    "session_id",
    "customer_id",
    "event_type",
    "url",
    "ts",
    "user_agent",
    "properties",
)

ORDER_STATUSES: tuple[str, ...] = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
)
CHANNELS: tuple[str, ...] = ("web", "mobile", "store", "marketplace")
PAYMENT_METHODS: tuple[str, ...] = ("card", "paypal", "bank_transfer", "gift_card")
PAYMENT_STATUSES: tuple[str, ...] = ("captured", "failed", "refunded")
EVENT_TYPES: tuple[str, ...] = ("page_view", "search", "add_to_cart", "checkout", "purchase")
LOYALTY_TIERS: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")
