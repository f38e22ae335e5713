import { fail, ok, type Result } from '../shared/result.js';
import { toProduct, type Category, type Product, type ProductQuery } from './model.js';
import type { CatalogRepository } from './repository.js';

export interface ProductPage {
  total: number;
  page: number;
  page_size: number;
  products: Product[];
}

export type ProductDetail = Product & { category: Category };

const productNotFound = () => fail('not_found', 'Product not found');

export class CatalogService {
  constructor(private readonly repo: CatalogRepository) {}

  categories(): Promise<Category[]> {
    return this.repo.categories();
  }

  async category(id: number): Promise<Result<Category>> {
    const category = await this.repo.category(id);
    return category ? ok(category) : fail('not_found', 'Category not found');
  }

  async products(query: ProductQuery): Promise<ProductPage> {
    const { total, rows } = await this.repo.products(query);
    return { total, page: query.page, page_size: query.page_size, products: rows.map(toProduct) };
  }

  async product(id: number): Promise<Result<ProductDetail>> {
    const row = await this.repo.productWithCategory(id);
    return row ? ok({ ...toProduct(row), category: row.category }) : productNotFound();
  }

  async related(id: number, limit: number): Promise<Result<Product[]>> {
    const row = await this.repo.product(id);
    if (!row) return productNotFound();
    return ok((await this.repo.related(row, limit)).map(toProduct));
  }

  brands(categoryId: number | undefined): Promise<string[]> {
    return this.repo.brands(categoryId);
  }
}
