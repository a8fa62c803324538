// Owned by its issue's work; re-exported from the package index.
export {};
