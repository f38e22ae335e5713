import type { SeedCatalog } from './seed.js';

/**
 * A deterministic catalog of any size for benchmarks: the same `count` always yields the same
 * products (seeded PRNG), spread over the default categories, with realistic names, brands,
 * prices and descriptions so that search, filters and sorts behave as on real data.
 */
const ADJECTIVES = ['Wireless', 'Compact', 'Premium', 'Ergonomic', 'Smart', 'Portable', 'Classic', 'Ultra', 'Eco', 'Pro', 'Mini', 'Heavy-Duty', 'Vintage', 'Modern', 'Deluxe'];
const NOUNS: Record<number, string[]> = {
  1: ['Headphones', 'Keyboard', 'Mouse', 'Webcam', 'Charger', 'Speaker', 'Monitor', 'Router', 'Tablet', 'Microphone'],
  2: ['T-Shirt', 'Jacket', 'Jeans', 'Sneakers', 'Hoodie', 'Scarf', 'Cap', 'Socks', 'Dress', 'Sweater'],
  3: ['Kettle', 'Blender', 'Toaster', 'Pan', 'Knife Set', 'Lamp', 'Pillow', 'Mug', 'Cutting Board', 'Vacuum'],
  4: ['Novel', 'Cookbook', 'Atlas', 'Biography', 'Guide', 'Anthology', 'Textbook', 'Journal', 'Comic', 'Dictionary'],
  5: ['Yoga Mat', 'Water Bottle', 'Tent', 'Backpack', 'Dumbbells', 'Bicycle Helmet', 'Running Shoes', 'Jump Rope', 'Sleeping Bag', 'Compass'],
};
const BRANDS = ['SoundMax', 'ChargeTech', 'KeyMaster', 'VisionPro', 'UrbanWear', 'HomeChef', 'PageTurner', 'PeakGear', 'HydroLife', 'BrewQuick', 'NovaTech', 'TrailBlaze', 'CozyNest', 'InkWell', 'FitCore'];
const FEATURES = ['with long battery life', 'made from recycled materials', 'with a two-year warranty', 'for everyday use', 'with fast charging', 'in a travel-friendly size', 'with stainless steel parts', 'with a soft-touch finish', 'rated for outdoor use', 'with RGB lighting'];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function* generateProducts(count: number, categories: SeedCatalog['categories']): Generator<SeedCatalog['products'][number]> {
  const random = mulberry32(20261129);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let id = 1; id <= count; id++) {
    const category = pick(categories);
    const noun = pick(NOUNS[category.id] ?? NOUNS[1]!);
    const name = `${pick(ADJECTIVES)} ${noun} ${id}`;
    yield {
      id,
      name,
      price: Math.round(100 + random() * 49_900) / 100,
      category_id: category.id,
      brand: pick(BRANDS),
      rating: Math.round(random() * 50) / 10,
      stock: random() < 0.1 ? 0 : Math.floor(random() * 500),
      description: `${pick(ADJECTIVES)} ${noun.toLowerCase()} ${pick(FEATURES)}.`,
    };
  }
}
