// The product version, shown by --version and reported by agents to the server.
export const VERSION = '0.1.0';
