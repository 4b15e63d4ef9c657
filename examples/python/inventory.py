"""A small stock-keeping module: items, quantities and reorder points."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Item:
    sku: str
    name: str
    quantity: int = 0
    reorder_point: int = 5
    tags: list[str] = field(default_factory=list)

    def needs_reorder(self) -> bool:
        return self.quantity <= self.reorder_point


class Inventory:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def add(self, item: Item) -> None:
        if item.sku in self.items:
            raise ValueError(f"duplicate SKU {item.sku}")
        self.items[item.sku] = item

    def restock(self, sku: str, amount: int) -> Item:
        item = self.items[sku]
        item.quantity += amount
        return item

    def low_stock(self) -> list[Item]:
        """Items at or below their reorder point, lowest quantity first."""
        
