// A shopping cart with line items and a discount code.

export class Cart {
  constructor() {
    this.lines = new Map();
    this.discount = 0;
  }

  add(sku, price, quantity = 1) {
    const line = this.lines.get(sku) ?? { sku, price, quantity: 0 };
    line.quantity += quantity;
    this.lines.set(sku, line);
    return line;
  }

  remove(sku) {
    return this.lines.delete(sku);
  }

  applyDiscount(percent) {
    if (percent < 0 || percent > 100) throw new RangeError("percent must be 0..100");
    this.discount = percent;
  }

  subtotal() {
    let total = 0;
    for (const line of this.lines.values()) {
      total += line.price * line.quantity;
    }
    return total;
  }

  total() {
    
  }
}
