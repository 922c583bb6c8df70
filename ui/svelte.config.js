// Lets .svelte files use <script lang="ts">; Vite, svelte-check and the Svelte language server all read this.
import { vitePreprocess } from "@sveltejs/vite-plugin-svelte";

export default {
  preprocess: vitePreprocess(),
};
