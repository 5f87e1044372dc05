import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { themeBootScript } from '../components/theme-toggle';
import { Providers } from './providers';
import './globals.css';

export const metadata: Metadata = {
  title: 'Faultline',
  description: 'Control plane and operator console for network partitions',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeBootScript }} />
      </head>
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
