import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import './app.css';
import {
  createTheme,
  MantineProvider,
  Menu,
  Modal,
  NativeSelect,
  Notification,
  PasswordInput,
  TableScrollContainer,
  Textarea,
  TextInput,
} from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.tsx';
import { ApiError } from './api.ts';

const theme = createTheme({
  primaryColor: 'indigo',
  // Shade 8 gives white labels on filled buttons at least 4.5:1 (WCAG AA), for every colour used here.
  primaryShade: 8,
  defaultRadius: 'md',
  respectReducedMotion: true,
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
  headings: { fontWeight: '650' },
  // Every field of these forms is required, so none is starred: labels read exactly as written.
  components: {
    TextInput: TextInput.extend({ defaultProps: { withAsterisk: false } }),
    PasswordInput: PasswordInput.extend({ defaultProps: { withAsterisk: false } }),
    NativeSelect: NativeSelect.extend({ defaultProps: { withAsterisk: false } }),
    Textarea: Textarea.extend({ defaultProps: { withAsterisk: false } }),
    // Close buttons are icons: give them words for screen readers.
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Dismiss' } } }),
    Modal: Modal.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } }),
    // Mantine's focus placeholder is a presentational element a menu may not contain (axe: aria-required-children).
    Menu: Menu.extend({ defaultProps: { withInitialFocusPlaceholder: false } }),
    // A table that scrolls sideways on a phone must be reachable by keyboard to scroll it (axe: scrollable-region-focusable).
    TableScrollContainer: TableScrollContainer.extend({
      defaultProps: { scrollAreaProps: { viewportProps: { tabIndex: 0 } } },
    }),
  },
});

const queryClient: QueryClient = new QueryClient({
  defaultOptions: {
    queries: {
      retry: (failures, error) =>
        !(error instanceof ApiError && error.status > 0 && error.status < 500) && failures < 2,
      refetchOnWindowFocus: false,
    },
  },
  // A 401 anywhere means the session ended: ask again who we are, and the layout sends the person to log in.
  queryCache: new QueryCache({
    onError: (error, query) => {
      if (error instanceof ApiError && error.status === 401 && query.queryKey[0] !== 'me') {
        void queryClient.invalidateQueries({ queryKey: ['me'] });
      }
    },
  }),
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme}>
      <Notifications position="top-right" />
      <QueryClientProvider client={queryClient}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
