import type { NextConfig } from "next";

// A static export: `npm run build` writes plain files to `out/`, which `spontra serve` (or any
// static host) serves at `/`. Each page is `page/index.html`, so links work without rewrites.
const config: NextConfig = {
  output: "export",
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
};

export default config;
