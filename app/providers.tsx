'use client';
/** Client-side providers: one React Query client per browser tab. */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(() => new QueryClient({ defaultOptions: { queries: { staleTime: 5000, retry: 2 } } }));
  return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
}
