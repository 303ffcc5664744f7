//! The routing as a small diagram of nested boxes: the hours split calls into inside and
//! outside (with holidays), each leading to an agent, a message, or the menu and its keys.

use std::collections::BTreeMap;

use domain::routing::{DAYS, HoursRule, Routing, Target};
use leptos::prelude::*;

/// Agent names by id (unknown ids show as themselves).
pub type Names = BTreeMap<String, String>;

/// `Mon–Fri 09:00–17:00` (days in a run are joined).
pub fn hours_label(rule: &HoursRule) -> String {
    let idx: Vec<usize> = DAYS.iter().enumerate().filter(|(_, d)| rule.days.iter().any(|x| x == *d)).map(|(i, _)| i).collect();
    let name = |i: usize| {
        let d = DAYS[i];
        format!("{}{}", d[..1].to_uppercase(), &d[1..])
    };
    let mut parts = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && idx[j + 1] == idx[j] + 1 {
            j += 1;
        }
        parts.push(if j > i + 1 {
            format!("{}–{}", name(idx[i]), name(idx[j]))
        } else {
            (i..=j).map(|k| name(idx[k])).collect::<Vec<_>>().join(", ")
        });
        i = j + 1;
    }
    format!("{} {}–{}", parts.join(", "), rule.from.trim(), rule.to.trim())
}

/// What a target says in a box.
pub fn target_label(t: &Target, names: &Names) -> String {
    match t {
        Target::Agent { agent_id } => format!("Agent {}", names.get(agent_id.trim()).cloned().unwrap_or_else(|| agent_id.clone())),
        Target::Menu => "Menu".to_string(),
        Target::Message { text } => format!("Say “{}”, hang up", text.trim()),
        Target::Person { number } => format!("Transfer to {}", number.trim()),
    }
}

/// One branch: the condition, then where it leads.
#[component]
fn Branch(test_id: &'static str, title: String, target: Target, routing: Routing, names: Names) -> impl IntoView {
    let menu = matches!(target, Target::Menu).then(|| routing.menu.clone()).flatten();
    let label = target_label(&target, &names);
    view! {
        <div class="flex-1 rounded-lg border border-slate-300 bg-white p-2" data-testid=test_id>
            <p class="text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</p>
            <p class="mt-1 text-sm text-slate-900" data-testid=format!("{test_id}-target")>{"→ "}{label}</p>
            {menu.map(|m| {
                let default = m.default_digit.clone();
                view! {
                    <div class="mt-2 rounded-md border border-indigo-200 bg-indigo-50 p-2" data-testid="diagram-menu">
                        <p class="text-xs italic text-slate-700">{format!("“{}”", m.prompt.trim())}</p>
                        <ul class="mt-1 space-y-0.5 text-sm">
                            {m.options.iter().map(|o| view! {
                                <li data-testid=format!("diagram-option-{}", o.digit)>
                                    <span class="mr-1 inline-block rounded bg-white px-1.5 font-mono text-xs ring-1 ring-slate-300">{o.digit.clone()}</span>
                                    {"→ "}{target_label(&o.target, &names)}
                                </li>
                            }).collect_view()}
                        </ul>
                        <p class="mt-1 text-xs text-slate-500" data-testid="diagram-no-key">
                            {match default {
                                Some(d) => format!("No key after {} tries → {d}", m.repeats + 1),
                                None => format!("No key after {} tries → goodbye", m.repeats + 1),
                            }}
                        </p>
                    </div>
                }
            })}
        </div>
    }
}

/// The diagram of `routing`.
#[component]
pub fn RoutingDiagram(routing: Routing, names: Names) -> impl IntoView {
    let hours = if routing.hours.is_empty() {
        "Open around the clock".to_string()
    } else {
        routing.hours.iter().map(hours_label).collect::<Vec<_>>().join("; ")
    };
    let holidays = routing.holidays.len();
    let outside = match holidays {
        0 => "Outside hours".to_string(),
        1 => "Outside hours · 1 holiday".to_string(),
        n => format!("Outside hours · {n} holidays"),
    };
    view! {
        <div class="mt-3 rounded-lg bg-slate-50 p-3 text-slate-800" data-testid="routing-diagram">
            <p class="text-sm font-medium" data-testid="diagram-hours">{format!("{hours} ({})", routing.timezone.trim())}</p>
            <div class="mt-2 flex flex-col gap-2 sm:flex-row">
                <Branch test_id="diagram-open" title="Inside hours".into() target=routing.open.clone() routing=routing.clone() names=names.clone()/>
                <Branch test_id="diagram-closed" title=outside target=routing.closed.clone() routing=routing.clone() names=names.clone()/>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_like_a_sentence() {
        let rule =
            |days: &[&str]| HoursRule { days: days.iter().map(|d| d.to_string()).collect(), from: "09:00".into(), to: "17:00".into() };
        assert_eq!(hours_label(&rule(&["mon", "tue", "wed", "thu", "fri"])), "Mon–Fri 09:00–17:00");
        assert_eq!(hours_label(&rule(&["sat", "mon", "sun"])), "Mon, Sat, Sun 09:00–17:00");
        assert_eq!(hours_label(&rule(&["mon", "tue", "thu"])), "Mon, Tue, Thu 09:00–17:00");
        let names = Names::from([("a1".to_string(), "Sales".to_string())]);
        assert_eq!(target_label(&Target::Agent { agent_id: "a1".into() }, &names), "Agent Sales");
        assert_eq!(target_label(&Target::Agent { agent_id: "gone".into() }, &names), "Agent gone");
        assert_eq!(target_label(&Target::Message { text: " Closed. ".into() }, &names), "Say “Closed.”, hang up");
        assert_eq!(target_label(&Target::Person { number: "+14155550100".into() }, &names), "Transfer to +14155550100");
    }
}
