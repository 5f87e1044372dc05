/** Signs a Chromium page in through the console's own form, as a person does. */
import type { Page } from 'playwright-core';

/** Opens the console, is sent to sign-in, fills the form and waits to be back on the overview. */
export async function signInThroughForm(page: Page, baseUrl: string, name: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.waitForURL(/\/sign-in/);
  await page.getByTestId('sign-in-name').fill(name);
  await page.getByTestId('sign-in-password').fill(password);
  await page.getByTestId('sign-in-submit').click();
  await page.waitForURL(`${baseUrl}/`);
}
