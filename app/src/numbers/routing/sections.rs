//! The routing form's sections: weekly hours, holidays, and the keypad menu.

use domain::routing::{DAYS, Holiday, HoursRule, Menu, MenuOption, Routing, Target};
use leptos::prelude::*;

use super::fields::{ErrorLine, Errors, Field, TargetEditor};
use crate::form::{INPUT, SECONDARY};

const LINK: &str = "text-xs font-medium text-indigo-700 hover:underline";

/// The weekly hours: one row per rule (days, from, to).
#[component]
pub fn HoursSection(r: RwSignal<Routing>, errors: Errors) -> impl IntoView {
    // Rows follow the count only: typing in a row does not redraw (and unfocus) it.
    let count = Memo::new(move |_| r.with(|r| r.hours.len()));
    let add = move |_| {
        r.update(|r| {
            let days = DAYS[..5].iter().map(|d| d.to_string()).collect();
            r.hours.push(HoursRule { days, from: "09:00".into(), to: "17:00".into() })
        })
    };
    view! {
        <fieldset class="space-y-2" data-testid="routing-hours">
            <legend class="text-sm font-medium text-slate-800">"Opening hours"</legend>
            <p class="text-xs text-slate-500">"No rules: open around the clock. An end before the start runs past midnight (22:00–06:00)."</p>
            {move || (0..count.get()).map(|i| view! { <HoursRow r i errors/> }).collect_view()}
            <ErrorLine field="routing.hours".to_string() errors/>
            <button type="button" class=LINK data-testid="routing-add-hours" on:click=add>"+ Add hours"</button>
        </fieldset>
    }
}

#[component]
fn HoursRow(r: RwSignal<Routing>, i: usize, errors: Errors) -> impl IntoView {
    let field = format!("routing.hours.{i}");
    let get = move |f: fn(&HoursRule) -> String| move || r.with(|r| r.hours.get(i).map(f).unwrap_or_default());
    let set = move |f: fn(&mut HoursRule, String)| {
        Callback::new(move |v: String| {
            r.update(|r| {
                if let Some(h) = r.hours.get_mut(i) {
                    f(h, v)
                }
            })
        })
    };
    view! {
        <div class="rounded-md border border-slate-200 p-2" data-testid=format!("routing-hours-{i}")>
            <div class="flex flex-wrap gap-2" role="group" aria-label=format!("Days of rule {}", i + 1)>
                {DAYS.iter().map(|d| {
                    let on = move || r.with(|r| r.hours.get(i).is_some_and(|h| h.days.iter().any(|x| x == d)));
                    let id = format!("routing-hours-{i}-day-{d}");
                    let (for_id, test_id) = (id.clone(), id.clone());
                    view! {
                        <label class="flex items-center gap-1 text-xs" for=for_id>
                            <input id=id data-testid=test_id type="checkbox" prop:checked=on on:change=move |ev| {
                                let checked = event_target_checked(&ev);
                                r.update(|r| if let Some(h) = r.hours.get_mut(i) {
                                    h.days.retain(|x| x != d);
                                    if checked {
                                        h.days.push(d.to_string());
                                        h.days.sort_by_key(|x| DAYS.iter().position(|y| y == x));
                                    }
                                });
                            }/>
                            {d.to_string()}
                        </label>
                    }
                }).collect_view()}
            </div>
            <ErrorLine field=format!("{field}.days") errors/>
            <div class="flex items-start gap-2">
                <Field label="From".into() field=format!("{field}.from") value=Signal::derive(get(|h| h.from.clone())) set=set(|h, v| h.from = v) errors placeholder="09:00"/>
                <Field label="To".into() field=format!("{field}.to") value=Signal::derive(get(|h| h.to.clone())) set=set(|h, v| h.to = v) errors placeholder="17:00"/>
                <button type="button" class="mt-6 text-xs text-red-700 hover:underline" data-testid=format!("routing-remove-hours-{i}")
                    on:click=move |_| r.update(|r| { if i < r.hours.len() { r.hours.remove(i); } })>"Remove"</button>
            </div>
        </div>
    }
}

/// Holidays as lines of `YYYY-MM-DD Name`.
#[component]
pub fn HolidaysSection(r: RwSignal<Routing>, errors: Errors) -> impl IntoView {
    let text =
        r.with_untracked(|r| r.holidays.iter().map(|h| format!("{} {}", h.date, h.name).trim().to_string()).collect::<Vec<_>>().join("\n"));
    let text = RwSignal::new(text);
    let on_input = move |ev| {
        let v = event_target_value(&ev);
        let holidays = v
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (date, name) = l.trim().split_once(char::is_whitespace).unwrap_or((l.trim(), ""));
                Holiday { date: date.to_string(), name: name.trim().to_string() }
            })
            .collect();
        r.update(|r| r.holidays = holidays);
        text.set(v);
    };
    // A holiday's problem names it by its place and date (its line may hold blank lines before it).
    let problems = move || {
        errors
            .under("routing.holidays")
            .into_iter()
            .map(|(rest, message)| {
                let index = rest.trim_start_matches('.').split('.').next().and_then(|n| n.parse::<usize>().ok());
                match index.and_then(|n| r.with(|r| r.holidays.get(n).map(|h| (n, h.date.clone())))) {
                    Some((n, date)) => format!("Holiday {} ({date}): {message}", n + 1),
                    None => message,
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! {
        <div>
            <label class="block text-sm font-medium text-slate-800" for="routing-input-routing-holidays">"Holidays"</label>
            <textarea id="routing-input-routing-holidays" data-testid="routing-input-routing-holidays" rows="3" class=format!("{INPUT} font-mono")
                placeholder="2026-12-25 Christmas" prop:value=move || text.get() on:input=on_input></textarea>
            <p class="text-xs text-slate-400">"One a line: YYYY-MM-DD and a name; closed all that day (local date)."</p>
            <p class="mt-1 min-h-4 text-xs text-red-600" data-testid="error-routing-holidays">{problems}</p>
        </div>
    }
}

/// The keypad menu: on or off, its prompt, its keys, its waits.
#[component]
pub fn MenuSection(r: RwSignal<Routing>, agents: Signal<Vec<(String, String)>>, errors: Errors) -> impl IntoView {
    let on = Memo::new(move |_| r.with(|r| r.menu.is_some()));
    let count = Memo::new(move |_| r.with(|r| r.menu.as_ref().map_or(0, |m| m.options.len())));
    let toggle = move |ev| {
        let checked = event_target_checked(&ev);
        r.update(|r| {
            r.menu = checked.then(|| Menu {
                prompt: String::new(),
                options: vec![MenuOption { digit: "1".into(), target: Target::Agent { agent_id: String::new() } }],
                timeout_secs: domain::routing::TIMEOUT_SECS.2,
                repeats: domain::routing::REPEATS.1,
                default_digit: None,
            })
        })
    };
    let menu_get = move |f: fn(&Menu) -> String| Signal::derive(move || r.with(|r| r.menu.as_ref().map(f).unwrap_or_default()));
    let menu_set = move |f: fn(&mut Menu, String)| {
        Callback::new(move |v: String| {
            r.update(|r| {
                if let Some(m) = r.menu.as_mut() {
                    f(m, v)
                }
            })
        })
    };
    let digits =
        move || r.with(|r| r.menu.as_ref().map(|m| m.options.iter().map(|o| o.digit.clone()).collect::<Vec<_>>()).unwrap_or_default());
    let default = move || r.with(|r| r.menu.as_ref().and_then(|m| m.default_digit.clone()).unwrap_or_default());
    view! {
        <fieldset class="space-y-2" data-testid="routing-menu">
            <label class="flex items-center gap-2 text-sm font-medium text-slate-800" for="routing-menu-on">
                <input id="routing-menu-on" data-testid="routing-menu-on" type="checkbox" prop:checked=move || on.get() on:change=toggle/>
                "Keypad menu"
            </label>
            {move || on.get().then(|| view! {
                <Field label="What the menu says".into() field="routing.menu.prompt".into() value=menu_get(|m| m.prompt.clone())
                    set=menu_set(|m, v| m.prompt = v) errors placeholder="Press 1 for sales, 2 for support."/>
                {move || (0..count.get()).map(|i| view! { <OptionRow r i agents errors/> }).collect_view()}
                <ErrorLine field="routing.menu.options".to_string() errors/>
                <button type="button" class=LINK data-testid="routing-add-option" on:click=move |_| r.update(|r| if let Some(m) = r.menu.as_mut() {
                    let next = domain::routing::DIGITS.chars().map(|c| c.to_string()).find(|d| m.option(d).is_none()).unwrap_or_default();
                    m.options.push(MenuOption { digit: next, target: Target::Agent { agent_id: String::new() } });
                })>"+ Add option"</button>
                <div class="flex gap-2">
                    <Field label="Seconds to wait for a key".into() field="routing.menu.timeoutSecs".into() kind="number"
                        value=menu_get(|m| m.timeout_secs.to_string()) set=menu_set(|m, v| m.timeout_secs = v.trim().parse().unwrap_or(0)) errors/>
                    <Field label="Repeats".into() field="routing.menu.repeats".into() kind="number"
                        value=menu_get(|m| m.repeats.to_string()) set=menu_set(|m, v| m.repeats = v.trim().parse().unwrap_or(u32::MAX)) errors/>
                    <div class="min-w-0 flex-1">
                        <label class="block text-xs font-medium text-slate-700" for="routing-input-routing-menu-defaultDigit">"No key: take"</label>
                        <select id="routing-input-routing-menu-defaultDigit" data-testid="routing-input-routing-menu-defaultDigit" class=INPUT
                            prop:value=default on:change=move |ev| {
                                let v = event_target_value(&ev);
                                r.update(|r| if let Some(m) = r.menu.as_mut() { m.default_digit = (!v.is_empty()).then_some(v) });
                            }>
                            <option value="">"Nothing (goodbye)"</option>
                            {move || digits().into_iter().map(|d| {
                                let selected = default() == d;
                                view! { <option value=d.clone() selected=selected>{format!("Key {d}")}</option> }
                            }).collect_view()}
                        </select>
                        <ErrorLine field="routing.menu.defaultDigit".to_string() errors/>
                    </div>
                </div>
            })}
        </fieldset>
    }
}

#[component]
fn OptionRow(r: RwSignal<Routing>, i: usize, agents: Signal<Vec<(String, String)>>, errors: Errors) -> impl IntoView {
    let field = format!("routing.menu.options.{i}");
    let option = move || r.with(|r| r.menu.as_ref().and_then(|m| m.options.get(i).cloned()));
    let edit = move |f: Box<dyn FnOnce(&mut MenuOption)>| {
        r.update(|r| {
            if let Some(o) = r.menu.as_mut().and_then(|m| m.options.get_mut(i)) {
                f(o)
            }
        })
    };
    view! {
        <div class="flex items-start gap-2 rounded-md border border-slate-200 p-2" data-testid=format!("routing-option-{i}")>
            <div class="w-20">
                <Field label="Key".into() field=format!("{field}.digit") value=Signal::derive(move || option().map(|o| o.digit).unwrap_or_default())
                    set=Callback::new(move |v: String| edit(Box::new(move |o| o.digit = v.trim().to_string()))) errors/>
            </div>
            <TargetEditor label=format!("Key {} leads to", i + 1) field=format!("{field}.target") allow_menu=false agents errors
                value=Signal::derive(move || option().map(|o| o.target).unwrap_or(Target::Menu))
                set=Callback::new(move |t: Target| edit(Box::new(move |o| o.target = t)))/>
            <button type="button" class=format!("{SECONDARY} mt-5") data-testid=format!("routing-remove-option-{i}")
                on:click=move |_| r.update(|r| if let Some(m) = r.menu.as_mut() && i < m.options.len() { m.options.remove(i); })>"Remove"</button>
        </div>
    }
}
