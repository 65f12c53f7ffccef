/** One HTTP request body with its destination-specific headers. */
export interface WireRequest {
  body: string;
  headers: Record<string, string>;
}
