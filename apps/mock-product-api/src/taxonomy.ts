/**
 * The simulated catalogue's categories and brands. Weights give a realistic
 * mix (many fashion and home items, few automotive ones); prices are
 * log-normal around a per-category median; brands within a category follow a
 * Zipf law (a few big brands, a long tail of small ones).
 */
export interface CategorySpec {
  readonly name: string;
  /** Relative share of the catalogue. */
  readonly weight: number;
  /** Median price in the catalogue's currency. */
  readonly medianPrice: number;
  /** Spread of log(price): larger means a longer tail of expensive items. */
  readonly priceSigma: number;
  readonly brands: readonly string[];
}

export const CATEGORIES: readonly CategorySpec[] = [
  { name: 'Electronics', weight: 12, medianPrice: 89, priceSigma: 1.1, brands: ['Samsung', 'Sony', 'Apple', 'LG', 'Anker', 'Philips', 'JBL', 'Xiaomi', 'Logitech', 'Bose', 'Lenovo', 'Asus'] },
  { name: 'Fashion', weight: 18, medianPrice: 34, priceSigma: 0.8, brands: ['Nike', 'Adidas', 'Zara', 'H&M', "Levi's", 'Uniqlo', 'Mango', 'Puma', 'Tommy Hilfiger', 'Calvin Klein', 'Gap', 'Esprit'] },
  { name: 'Home & Kitchen', weight: 15, medianPrice: 29, priceSigma: 0.9, brands: ['IKEA', 'Tefal', 'KitchenAid', 'Philips', 'Bosch', 'WMF', 'Le Creuset', 'Joseph Joseph', 'Brabantia', 'OXO'] },
  { name: 'Beauty', weight: 9, medianPrice: 18, priceSigma: 0.7, brands: ["L'Oréal", 'Nivea', 'Maybelline', 'Garnier', 'Dove', 'Clinique', 'The Ordinary', 'Estée Lauder', 'CeraVe'] },
  { name: 'Sports & Outdoors', weight: 8, medianPrice: 42, priceSigma: 1.0, brands: ['Decathlon', 'The North Face', 'Columbia', 'Salomon', 'Wilson', 'Garmin', 'Under Armour', 'Patagonia'] },
  { name: 'Books', weight: 10, medianPrice: 14, priceSigma: 0.5, brands: ['Penguin', 'HarperCollins', 'Macmillan', 'Hachette', "O'Reilly", 'Simon & Schuster'] },
  { name: 'Toys & Games', weight: 7, medianPrice: 24, priceSigma: 0.8, brands: ['LEGO', 'Hasbro', 'Mattel', 'Ravensburger', 'Playmobil', 'Fisher-Price', 'Nintendo'] },
  { name: 'Grocery', weight: 8, medianPrice: 6, priceSigma: 0.6, brands: ['Nestlé', 'Barilla', 'Lavazza', 'Kellogg\'s', 'Heinz', 'Lindt', 'Danone', 'Twinings'] },
  { name: 'Health', weight: 5, medianPrice: 15, priceSigma: 0.7, brands: ['Centrum', 'Omron', 'Braun', 'Solgar', 'Optimum Nutrition', 'Oral-B'] },
  { name: 'Automotive', weight: 3, medianPrice: 38, priceSigma: 1.2, brands: ['Bosch', 'Michelin', 'Castrol', '3M', 'Thule', 'Osram'] },
  { name: 'Pet Supplies', weight: 3, medianPrice: 19, priceSigma: 0.8, brands: ['Purina', 'Royal Canin', 'Pedigree', 'Whiskas', 'Kong', 'Trixie'] },
  { name: 'Office', weight: 2, medianPrice: 12, priceSigma: 0.9, brands: ['Staples', 'Pilot', 'Moleskine', 'Leitz', 'Brother', 'HP', 'Post-it'] },
];

/** Share of products sold without a brand (generic and unbranded goods). */
export const UNBRANDED_SHARE = 0.07;
