import { test, expect } from "@playwright/test";
import { open, keepScreenshot, signUp } from "./helpers";

test("a Hindi agent needs speech-to-text that hears Hindi, and saves with the OpenAI-compatible one", async ({ page }) => {
  await signUp(page);
  await open(page, "/agents");
  await page.getByTestId("new-agent").click();
  const form = page.getByRole("dialog", { name: "New agent" });
  await form.getByLabel("Name").fill("Hindi desk");
  await form.getByLabel("Language").selectOption({ label: "Hindi" });
  await form.getByLabel("Greeting").fill("नमस्ते, आपका स्वागत है।");
  await form.getByLabel("Scripted replies").fill("समय, खुले => हम सुबह नौ बजे से शाम पाँच बजे तक खुले हैं।");

  // Offline Whisper cannot hear Hindi: the error shows next to the speech-to-text choice.
  await form.getByTestId("save-agent").click();
  await expect(form.getByTestId("error-providers-stt")).toContainText("English only");
  await keepScreenshot(page, "agent-form-hindi-error");
  await expect(form).toHaveCount(1);

  // The OpenAI-compatible provider hears it; the replies stay scripted and spoken offline.
  await form.getByLabel("Speech to text").selectOption({ label: "OpenAI-compatible" });
  await expect(form.getByTestId("error-providers-stt")).not.toContainText("English only");
  await form.getByLabel("API base URL").fill("https://api.openai.com/v1");
  await form.getByLabel("API key").fill("sk-test-hindi-0000");
  await form.getByTestId("save-agent").click();
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId("agent-name")).toHaveText("Hindi desk");
  await expect(page.getByTestId("agent-card")).toContainText("hi · scripted");
});
