import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The dev server proxies the API and the room sockets to the backend, so the app always talks
// to its own origin (the same as in production, where FastAPI serves web/dist).
const backend = process.env.MEETING_BACKEND_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/api': { target: backend, changeOrigin: true },
      '/ws': { target: backend, ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
  },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.{js,jsx}'],
    testTimeout: 15_000,
    restoreMocks: true,
  },
});
