/// <reference types="vitest/config" />
// One config for the dev server, the production bundle Tauri embeds (ui/dist) and the unit tests.
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  // Vitest runs in Node, which would otherwise pick Svelte's server build, where `mount` throws.
  resolve: mode === "test" ? { conditions: ["browser"] } : {},
  // Tauri shows its own output in the same terminal during development.
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The webview is WebKitGTK 2.4x on Linux, WebView2 on Windows, WKWebView on macOS: all modern.
    target: "es2022",
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
}));
