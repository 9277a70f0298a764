import {
  AppShell,
  Avatar,
  Badge,
  Box,
  Burger,
  Group,
  Menu,
  NavLink,
  Stack,
  Text,
  UnstyledButton,
  VisuallyHidden,
} from '@mantine/core';
import { useDisclosure, useReducedMotion } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import {
  IconBuilding,
  IconChartBar,
  IconCheck,
  IconLock,
  IconLogout,
  IconMail,
  IconMessages,
  IconReceipt2,
  IconSelector,
  IconServer2,
  IconUsers,
  IconWebhook,
} from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { hasStaffRole, STAFF_ROLE_LABELS } from '../access.ts';
import { api, type Me } from '../api.ts';
import { useMe } from '../queries.ts';
import { Brand } from './Brand.tsx';
import { DeactivationBanner } from './DeactivationBanner.tsx';
import { TestClockBar } from './TestClockBar.tsx';

const PLAN_NAMES = { free: 'Free', plus: 'Plus', enterprise: 'Enterprise' } as const;

function initials(name: string) {
  const parts = name.trim().split(/\s+/);
  return `${parts[0]?.[0] ?? ''}${parts.length > 1 ? (parts.at(-1)?.[0] ?? '') : ''}`.toUpperCase() || '?';
}

/** Drops everything cached for the old session (the test clock is the server's, not the session's). */
export function useForgetSession() {
  const queryClient = useQueryClient();
  return () => queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'test-clock' });
}

/** The frame of every signed-in page: header with org and user, side navigation, the page. */
export function AppLayout() {
  const me = useMe().data as Me;
  const [isNavOpen, nav] = useDisclosure(false);
  const reduceMotion = useReducedMotion();
  const location = useLocation();
  // Choosing a page on a phone closes the menu.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on navigation only
  useEffect(() => nav.close(), [location.pathname]);

  return (
    <AppShell
      className="app-shell"
      header={{ height: 60 }}
      navbar={{ width: 248, breakpoint: 'sm', collapsed: { mobile: !isNavOpen } }}
      padding={{ base: 'sm', sm: 'lg' }}
      transitionDuration={reduceMotion ? 0 : 200}
    >
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="sm">
          <Group gap="sm" wrap="nowrap" miw={0}>
            <Burger
              opened={isNavOpen}
              onClick={nav.toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label={isNavOpen ? 'Close navigation' : 'Open navigation'}
              aria-expanded={isNavOpen}
              aria-controls="side-navigation"
            />
            <Box visibleFrom="xs">
              <Brand />
            </Box>
            <Box hiddenFrom="xs">
              <Brand compact />
            </Box>
            {me.kind === 'member' && <OrgSwitcher me={me} />}
            {me.kind === 'staff' && (
              <Badge variant="light" color="grape" size="lg">
                Staff
              </Badge>
            )}
          </Group>
          <UserMenu me={me} />
        </Group>
      </AppShell.Header>

      <AppShell.Navbar p="sm" id="side-navigation" aria-label="Main">
        <SideNavigation me={me} />
      </AppShell.Navbar>

      <AppShell.Main>
        <Stack gap="md" maw={1120} mx="auto">
          <TestClockBar />
          {me.kind === 'member' && <DeactivationBanner orgId={me.org.id} />}
          <Box component="main" id="main" tabIndex={-1} style={{ outline: 'none' }}>
            <Outlet />
          </Box>
        </Stack>
      </AppShell.Main>
    </AppShell>
  );
}

interface NavItem {
  to: string;
  label: string;
  icon: typeof IconReceipt2;
  /** Current only on exactly this path (not below it), */
  exact?: boolean;
  /** and also under these paths (an org's detail belongs to Organizations). */
  alsoActiveUnder?: string[];
}

function navigationOf(me: Me): { heading: string; items: NavItem[] } {
  if (me.kind === 'member') {
    return {
      heading: 'Settings',
      items: [
        { to: '/settings/billing', label: 'Billing and Usage', icon: IconReceipt2 },
        { to: '/team', label: 'Team', icon: IconUsers },
        { to: '/runtimes', label: 'Runtimes', icon: IconServer2 },
      ],
    };
  }
  const isSupport = hasStaffRole(me.staff_roles, 'support');
  const isSales = hasStaffRole(me.staff_roles, 'sales');
  const isAdmin = me.staff_roles.includes('admin');
  return {
    heading: 'Support console',
    items: [
      { to: '/support', label: 'Organizations', icon: IconBuilding, exact: true, alsoActiveUnder: ['/support/orgs'] },
      { to: '/support/forecast', label: 'Deactivation forecast', icon: IconChartBar },
      ...(isSupport ? [{ to: '/support/email-locks', label: 'Email locks', icon: IconLock }] : []),
      ...(isSales ? [{ to: '/support/sales-inquiries', label: 'Sales inquiries', icon: IconMessages }] : []),
      { to: '/support/outbox', label: 'Outbox', icon: IconMail },
      ...(isAdmin ? [{ to: '/support/webhooks', label: 'Webhooks', icon: IconWebhook }] : []),
    ],
  };
}

function SideNavigation({ me }: { me: Me }) {
  const location = useLocation();
  const { heading, items } = navigationOf(me);
  const isUnder = (path: string) => location.pathname === path || location.pathname.startsWith(`${path}/`);
  return (
    <Stack gap={4} component="nav" aria-label="Sections">
      <Text size="xs" fw={600} c="dimmed" tt="uppercase" px="sm" pt={4} pb={4}>
        {heading}
      </Text>
      {items.map((item) => {
        const isActive =
          (item.exact ? location.pathname === item.to : isUnder(item.to)) || (item.alsoActiveUnder ?? []).some(isUnder);
        return (
          <NavLink
            key={item.to}
            component={Link}
            to={item.to}
            label={item.label}
            leftSection={<item.icon size={18} stroke={1.6} aria-hidden />}
            active={isActive}
            aria-current={isActive ? 'page' : undefined}
            variant="light"
            // Indigo-9 on a light tint keeps the active entry's label at 4.5:1, hovered or not.
            style={{
              borderRadius: 'var(--mantine-radius-md)',
              '--nl-color': 'var(--mantine-color-indigo-9)',
              '--nl-bg': 'var(--mantine-color-indigo-0)',
              '--nl-hover': 'var(--mantine-color-indigo-1)',
            }}
          />
        );
      })}
      {me.kind === 'staff' && (
        <Text size="xs" c="dimmed" px="sm" pt="md">
          Your staff roles: {me.staff_roles.map((role) => STAFF_ROLE_LABELS[role]).join(', ')}
        </Text>
      )}
    </Stack>
  );
}

function OrgSwitcher({ me }: { me: Extract<Me, { kind: 'member' }> }) {
  const navigate = useNavigate();
  const forgetSession = useForgetSession();
  const switchTo = async (orgId: string) => {
    try {
      await api('POST', '/v1/auth/switch-org', { org_id: orgId });
      forgetSession();
      navigate('/settings/billing');
    } catch (error) {
      notifications.show({
        color: 'red',
        title: 'Could not switch organization',
        message: error instanceof Error ? error.message : 'Try again.',
      });
    }
  };
  return (
    <Menu position="bottom-start" width={280} shadow="md" withinPortal>
      <Menu.Target>
        <UnstyledButton
          px="sm"
          py={6}
          style={{
            border: '1px solid var(--mantine-color-default-border)',
            borderRadius: 'var(--mantine-radius-md)',
            minWidth: 0,
          }}
        >
          <Group gap={8} wrap="nowrap">
            <VisuallyHidden>Organization:</VisuallyHidden>
            <Text fw={600} size="sm" truncate="end" maw={{ base: 120, xs: 220, sm: 320 }}>
              {me.org.name}
            </Text>
            <Badge size="sm" variant="light" color={me.org.plan === 'free' ? 'gray' : 'indigo'} visibleFrom="xs">
              {PLAN_NAMES[me.org.plan]}
            </Badge>
            <IconSelector size={16} aria-hidden />
            <VisuallyHidden>(switch organization)</VisuallyHidden>
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        {/* Labels sit inside groups: a menu may only hold groups, items and separators. */}
        {/* biome-ignore lint/a11y/useSemanticElements: a group of menu items, not a form's fieldset */}
        <div role="group" aria-labelledby="org-menu-label">
          <Menu.Label id="org-menu-label">Your organizations</Menu.Label>
          {me.orgs.map((org) => {
            const isCurrent = org.id === me.org.id;
            const isDeactivated = org.status !== 'active';
            return (
              <Menu.Item
                key={org.id}
                disabled={isCurrent || isDeactivated}
                onClick={() => void switchTo(org.id)}
                leftSection={isCurrent ? <IconCheck size={16} aria-hidden /> : <Box w={16} />}
                rightSection={
                  <Text size="xs" c="dimmed">
                    {isDeactivated ? 'Deactivated' : PLAN_NAMES[org.plan]}
                  </Text>
                }
              >
                {org.name}
                {isCurrent && <VisuallyHidden> (current)</VisuallyHidden>}
              </Menu.Item>
            );
          })}
        </div>
        <Menu.Divider />
        <Menu.Item component={Link} to="/signup?another=1">
          Create another organization
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

function UserMenu({ me }: { me: Me }) {
  const navigate = useNavigate();
  const forgetSession = useForgetSession();
  const logOut = async () => {
    try {
      await api('POST', '/v1/auth/logout');
    } catch {
      // An already ended session is logged out all the same.
    }
    forgetSession();
    navigate('/login', { replace: true, state: { loggedOut: true } });
  };
  return (
    <Menu position="bottom-end" width={240} shadow="md" withinPortal>
      <Menu.Target>
        <UnstyledButton style={{ borderRadius: 'var(--mantine-radius-md)' }}>
          <Group gap={8} wrap="nowrap">
            <Avatar color="indigo" radius="xl" size={34} aria-hidden>
              {initials(me.user.full_name)}
            </Avatar>
            <VisuallyHidden>Account menu of</VisuallyHidden>
            <Box hiddenFrom="md">
              <VisuallyHidden>{me.user.full_name}</VisuallyHidden>
            </Box>
            <Box visibleFrom="md" style={{ lineHeight: 1.2 }}>
              <Text size="sm" fw={600}>
                {me.user.full_name}
              </Text>
              <Text size="xs" c="dimmed">
                {me.user.email}
              </Text>
            </Box>
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        {/* biome-ignore lint/a11y/useSemanticElements: a group of menu items, not a form's fieldset */}
        <div role="group" aria-labelledby="user-menu-label">
          <Menu.Label id="user-menu-label">
            Signed in as
            <Text size="sm" c="var(--mantine-color-text)" truncate="end">
              {me.user.email}
            </Text>
          </Menu.Label>
          <Menu.Item leftSection={<IconLogout size={16} aria-hidden />} onClick={() => void logOut()}>
            Log out
          </Menu.Item>
        </div>
      </Menu.Dropdown>
    </Menu>
  );
}
