//! Settings: API tokens for the REST API (created, shown once, revoked).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::field_error;
use super::pages::Field;
use crate::error::AppError;
use crate::layout::PageHeader;

/// An API token as listed (the token itself is shown once, at creation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// A token just created: the only time its full value is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTokenView {
    pub token: TokenView,
    pub secret: String,
}

#[cfg(feature = "ssr")]
impl From<server::users::ApiToken> for TokenView {
    fn from(t: server::users::ApiToken) -> Self {
        Self { id: t.id, name: t.name, prefix: t.prefix, created_at: t.created_at, last_used_at: t.last_used_at }
    }
}

/// The signed-in user's API tokens.
#[server(endpoint = "tokens/list")]
pub async fn list_api_tokens() -> Result<Vec<TokenView>, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(server::users::list_tokens(&state, &user.owner).await?.into_iter().map(Into::into).collect())
}

/// Creates an API token and returns it once.
#[server(endpoint = "tokens/create")]
pub async fn create_api_token(name: String) -> Result<NewTokenView, AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    let (token, secret) = server::users::create_token(&state, &user.owner, &name).await?;
    Ok(NewTokenView { token: token.into(), secret })
}

/// Revokes one of the signed-in user's tokens.
#[server(endpoint = "tokens/revoke")]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    let (state, user) = crate::ssr::signed_in().await?;
    server::users::revoke_token(&state, &user.owner, &id).await?;
    Ok(())
}

/// `/settings`.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_tokens());
    let created = create.value();
    view! {
        <PageHeader title="Settings" subtitle="API tokens let scripts call the REST API with Authorization: Bearer."/>
        <section class="rounded-xl border border-slate-200 bg-white p-6">
            <h2 class="font-medium">"Create an API token"</h2>
            <ActionForm action=create attr:class="mt-4 flex max-w-xl items-start gap-3" attr:novalidate=true>
                <div class="flex-1"><Field label="Name" name="name" error=field_error(created, "name")/></div>
                <button type="submit" data-testid="create-token" class="mt-6 rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700">"Create"</button>
            </ActionForm>
            {move || created.get().and_then(Result::ok).map(|t| view! {
                <div data-testid="new-token" class="mt-4 rounded-md border border-amber-300 bg-amber-50 p-4 text-sm">
                    <p class="font-medium">"Copy this token now; it will not be shown again."</p>
                    <code data-testid="new-token-value" class="mt-2 block break-all font-mono">{t.secret}</code>
                </div>
            })}
        </section>
        <section class="mt-6 rounded-xl border border-slate-200 bg-white p-6">
            <h2 class="font-medium">"Your tokens"</h2>
            <Transition fallback=|| view! { <p class="mt-4 h-6 animate-pulse rounded bg-slate-100"></p> }>
                {move || tokens.get().map(|r| match r {
                    Err(e) => view! { <p class="mt-4 text-sm text-red-600">{e.to_string()}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p data-testid="no-tokens" class="mt-4 text-sm text-slate-500">"No API tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="mt-4 divide-y divide-slate-100">
                            {list.into_iter().map(|t| {
                                let id = t.id.clone();
                                view! {
                                    <li data-testid="token-row" class="flex items-center justify-between py-3 text-sm">
                                        <div>
                                            <span class="font-medium">{t.name}</span>
                                            <span class="ml-3 font-mono text-slate-500">{t.prefix}"…"</span>
                                            <span class="ml-3 text-slate-400">"created " {t.created_at}</span>
                                        </div>
                                        <button class="rounded-md px-3 py-1 text-red-700 hover:bg-red-50"
                                            on:click=move |_| {
                                                if window().confirm_with_message("Revoke this token? Scripts using it will stop working.").unwrap_or(false) {
                                                    revoke.dispatch(RevokeApiToken { id: id.clone() });
                                                }
                                            }>"Revoke"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </section>
        <crate::notifications::NotificationsSection/>
    }
}
