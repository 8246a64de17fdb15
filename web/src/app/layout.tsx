import type { Metadata, Viewport } from "next";
import "./globals.css";
import { Providers } from "./providers";
import { Header } from "@/components/Header";

export const metadata: Metadata = {
  title: "Spontra — fast, honest flight search",
  description: "Compare flights, find the cheapest days, and explore anywhere within a few hours of flying.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900">
        <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:p-2">
          Skip to content
        </a>
        <Providers>
          <Header />
          <main id="main" className="mx-auto max-w-6xl px-4 pb-16 pt-6">
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
