//! Small SVG charts drawn by the app itself (no chart library, no CDN).

use domain::call::AnalyticsDay;
use leptos::prelude::*;

const W: f64 = 640.0;
const H: f64 = 160.0;
const PAD_L: f64 = 36.0;
const PAD_B: f64 = 20.0;
/// Room above the top grid line for its label.
const PAD_T: f64 = 8.0;

/// A "nice" upper bound for an axis (1, 2 or 5 times a power of ten).
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|m| *m >= v).unwrap_or(10.0 * mag)
}

fn x_of(i: usize, n: usize) -> f64 {
    let step = (W - PAD_L) / n.max(1) as f64;
    PAD_L + step * i as f64 + step / 2.0
}

fn y_of(v: f64, max: f64) -> f64 {
    PAD_T + (H - PAD_B - PAD_T) * (1.0 - v / max)
}

/// An axis label: whole numbers, or one decimal on small scales (0.5 calls is not "0").
fn tick(v: f64) -> String {
    if v.fract().abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.1}") }
}

fn axis(max: f64, unit: &'static str) -> impl IntoView {
    (0..=2)
        .map(|i| {
            let v = max * i as f64 / 2.0;
            let y = y_of(v, max);
            view! {
                <line x1=PAD_L y1=y x2=W y2=y stroke="#e2e8f0"/>
                <text x=PAD_L - 4.0 y=y + 3.0 text-anchor="end" font-size="10" fill="#64748b">{format!("{}{unit}", tick(v))}</text>
            }
        })
        .collect_view()
}

fn day_labels(days: &[AnalyticsDay]) -> impl IntoView + use<> {
    let every = days.len().div_ceil(7).max(1);
    let n = days.len();
    days.iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0)
        .map(|(i, d)| (i, d.day.get(5..).unwrap_or_default().to_string()))
        .collect::<Vec<_>>()
        .into_iter()
        .map(move |(i, label)| view! { <text x=x_of(i, n) y=H - 4.0 text-anchor="middle" font-size="10" fill="#64748b">{label}</text> })
        .collect_view()
}

/// Calls per day: all calls, with the answered ones on top.
#[component]
pub fn CallsChart(days: Vec<AnalyticsDay>) -> impl IntoView {
    let max = nice_max(days.iter().map(|d| d.calls).max().unwrap_or(0) as f64);
    let bar = ((W - PAD_L) / days.len().max(1) as f64 * 0.7).max(2.0);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = x_of(i, days.len()) - bar / 2.0;
            let (yc, ya) = (y_of(d.calls as f64, max), y_of(d.answered as f64, max));
            view! {
                <g data-testid="chart-day" data-calls=d.calls>
                    <rect x=x y=yc width=bar height=(H - PAD_B - yc).max(0.0) fill="#c7d2fe"><title>{format!("{}: {} calls", d.day, d.calls)}</title></rect>
                    <rect x=x y=ya width=bar height=(H - PAD_B - ya).max(0.0) fill="#4f46e5"><title>{format!("{}: {} answered", d.day, d.answered)}</title></rect>
                </g>
            }
        })
        .collect_view();
    let labels = day_labels(&days);
    view! {
        <svg viewBox=format!("0 0 {W} {H}") class="w-full" role="img" aria-label="Calls per day (light: all, dark: answered)" data-testid="calls-chart">
            {axis(max, "")}
            {bars}
            {labels}
        </svg>
    }
}

/// Voice-to-voice latency per day: p50 and p90 lines.
#[component]
pub fn LatencyChart(days: Vec<AnalyticsDay>) -> impl IntoView {
    let max = nice_max(days.iter().filter_map(|d| d.voice_to_voice_p90_ms).max().unwrap_or(0) as f64);
    let line = |pick: fn(&AnalyticsDay) -> Option<i64>| {
        days.iter()
            .enumerate()
            .filter_map(|(i, d)| pick(d).map(|v| format!("{:.1},{:.1}", x_of(i, days.len()), y_of(v as f64, max))))
            .collect::<Vec<_>>()
    };
    let p50 = line(|d| d.voice_to_voice_p50_ms);
    let p90 = line(|d| d.voice_to_voice_p90_ms);
    let dots = |pts: &[String], colour: &'static str| {
        pts.iter()
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
                view! { <circle cx=x.to_string() cy=y.to_string() r="3" fill=colour/> }
            })
            .collect_view()
    };
    let labels = day_labels(&days);
    let (dots90, dots50) = (dots(&p90, "#f59e0b"), dots(&p50, "#4f46e5"));
    view! {
        <svg viewBox=format!("0 0 {W} {H}") class="w-full" role="img" aria-label="Voice-to-voice latency per day (p50 and p90, ms)" data-testid="latency-chart">
            {axis(max, "")}
            <polyline points=p90.join(" ") fill="none" stroke="#f59e0b" stroke-width="2"/>
            <polyline points=p50.join(" ") fill="none" stroke="#4f46e5" stroke-width="2"/>
            {dots90}
            {dots50}
            {labels}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_show_halves_on_small_scales() {
        assert_eq!((tick(0.0), tick(0.5), tick(1.0), tick(1000.0)), ("0".into(), "0.5".into(), "1".into(), "1000".into()));
        // The top grid line sits below the chart's top edge, so its label shows.
        assert!(y_of(1.0, 1.0) >= 8.0 && y_of(0.0, 1.0) <= H - PAD_B);
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(3.0), 5.0);
        assert_eq!(nice_max(12.0), 20.0);
        assert_eq!(nice_max(1450.0), 2000.0);
        assert_eq!(nice_max(5000.0), 5000.0);
    }
}
