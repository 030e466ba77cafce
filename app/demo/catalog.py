"""The demo shop's products, and what goes with what (the post-purchase email's cross-sell).

Prices are in euros, the shop's currency. Each product has an illustration under
static/img/demo/<sku>.svg; emails link it by absolute URL (BASE_URL), as a shop's CDN would.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price: Decimal
    product_id: int
    variant_id: int
    grams: int
    kind: str  # apparel | footwear | gear | camp

    @property
    def handle(self) -> str:
        return self.sku.lower()


def _p(sku: str, title: str, price: str, n: int, grams: int, kind: str) -> Product:
    # Shopify ids are large integers; these are made up but shaped alike.
    return Product(sku, title, Decimal(price), 8120334500000 + n * 7919, 44120334500000 + n * 104729, grams, kind)


PRODUCTS: tuple[Product, ...] = (
    _p("AS-BEANIE", "Merino Wool Beanie", "29.00", 1, 90, "apparel"),
    _p("AS-SOCKS", "Trail Running Socks (2 pairs)", "19.90", 2, 120, "apparel"),
    _p("AS-DOWN", "Alpine Down Jacket", "229.00", 3, 480, "apparel"),
    _p("AS-SHELL", "Waterproof Shell Jacket", "179.00", 4, 390, "apparel"),
    _p("AS-FLEECE", "Grid Fleece Midlayer", "89.00", 5, 310, "apparel"),
    _p("AS-BASE", "Merino Base Layer Top", "69.00", 6, 180, "apparel"),
    _p("AS-TROUSERS", "Stretch Hiking Trousers", "99.00", 7, 420, "apparel"),
    _p("AS-GLOVES", "Windproof Trail Gloves", "44.50", 8, 110, "apparel"),
    _p("AS-SCARF", "Alpine Wool Scarf", "39.00", 9, 160, "apparel"),
    _p("AS-TRAILSHOE", "Trail Running Shoes", "139.00", 10, 620, "footwear"),
    _p("AS-BOOTS", "Leather Hiking Boots", "189.00", 11, 1350, "footwear"),
    _p("AS-GAITERS", "Trail Gaiters", "24.00", 12, 140, "footwear"),
    _p("AS-DAYPACK", "Daypack 24 L", "109.00", 13, 870, "gear"),
    _p("AS-RAINCOVER", "Pack Rain Cover", "19.00", 14, 95, "gear"),
    _p("AS-BOTTLE", "Insulated Bottle 750 ml", "34.00", 15, 390, "gear"),
    _p("AS-HEADLAMP", "Headlamp 350 lm", "45.00", 16, 85, "gear"),
    _p("AS-POLES", "Carbon Trekking Poles (pair)", "119.00", 17, 460, "gear"),
    _p("AS-TENT", "Ultralight Tent 2P", "389.00", 18, 1250, "camp"),
    _p("AS-SLEEPBAG", "Down Sleeping Bag -5 °C", "249.00", 19, 980, "camp"),
    _p("AS-MAT", "Insulated Sleeping Mat", "89.00", 20, 520, "camp"),
    _p("AS-STOVE", "Compact Camp Stove", "59.00", 21, 210, "camp"),
    _p("AS-MUG", "Enamel Camp Mug", "16.00", 22, 240, "camp"),
)

BY_SKU: dict[str, Product] = {p.sku: p for p in PRODUCTS}

#: For each product, three that go with it, best first: what the post-purchase email suggests.
GOES_WITH: dict[str, tuple[str, str, str]] = {
    "AS-BEANIE": ("AS-SCARF", "AS-GLOVES", "AS-BASE"),
    "AS-SOCKS": ("AS-TRAILSHOE", "AS-GAITERS", "AS-BOTTLE"),
    "AS-DOWN": ("AS-BEANIE", "AS-GLOVES", "AS-BASE"),
    "AS-SHELL": ("AS-FLEECE", "AS-RAINCOVER", "AS-TROUSERS"),
    "AS-FLEECE": ("AS-BASE", "AS-SHELL", "AS-BEANIE"),
    "AS-BASE": ("AS-FLEECE", "AS-SOCKS", "AS-BEANIE"),
    "AS-TROUSERS": ("AS-GAITERS", "AS-BOOTS", "AS-BASE"),
    "AS-GLOVES": ("AS-BEANIE", "AS-SCARF", "AS-HEADLAMP"),
    "AS-SCARF": ("AS-BEANIE", "AS-GLOVES", "AS-DOWN"),
    "AS-TRAILSHOE": ("AS-SOCKS", "AS-GAITERS", "AS-BOTTLE"),
    "AS-BOOTS": ("AS-SOCKS", "AS-POLES", "AS-GAITERS"),
    "AS-GAITERS": ("AS-BOOTS", "AS-TROUSERS", "AS-SOCKS"),
    "AS-DAYPACK": ("AS-RAINCOVER", "AS-BOTTLE", "AS-HEADLAMP"),
    "AS-RAINCOVER": ("AS-DAYPACK", "AS-SHELL", "AS-HEADLAMP"),
    "AS-BOTTLE": ("AS-MUG", "AS-DAYPACK", "AS-STOVE"),
    "AS-HEADLAMP": ("AS-TENT", "AS-DAYPACK", "AS-STOVE"),
    "AS-POLES": ("AS-BOOTS", "AS-DAYPACK", "AS-GAITERS"),
    "AS-TENT": ("AS-SLEEPBAG", "AS-MAT", "AS-HEADLAMP"),
    "AS-SLEEPBAG": ("AS-MAT", "AS-TENT", "AS-BEANIE"),
    "AS-MAT": ("AS-SLEEPBAG", "AS-TENT", "AS-STOVE"),
    "AS-STOVE": ("AS-MUG", "AS-BOTTLE", "AS-HEADLAMP"),
    "AS-MUG": ("AS-STOVE", "AS-BOTTLE", "AS-TENT"),
}

#: Codes the shop hands out; an order may carry one (10% off the items).
DISCOUNT_CODES = ("WELCOME10", "TRAIL10", "SPRING10")
#: Orders below this subtotal pay SHIPPING.
FREE_SHIPPING_FROM = Decimal("75.00")
SHIPPING = Decimal("4.90")


def image_url(base_url: str, sku: str) -> str:
    return f"{base_url}/static/img/demo/{sku.lower()}.svg"


def product_url(shop_url: str, sku: str) -> str:
    return f"{shop_url}/products/{BY_SKU[sku].handle}"
