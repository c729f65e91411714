//! Test doubles for observability: a tracing [`Layer`] that captures
//! every span (name, target, fields as recorded, parent) and log event (its
//! message and the spans it was in), and a metrics [`Recorder`] that keeps
//! counters and gauges.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as captured: name, target, fields (latest values), parent.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// The span's name.
    pub name: &'static str,
    /// Its target (module path).
    pub target: String,
    /// Its fields, with the latest value recorded (`Debug` text, strings as they are).
    pub fields: BTreeMap<String, String>,
    /// The index of its parent in [`Captured::spans`].
    pub parent: Option<usize>,
}

impl SpanRecord {
    /// The value of field `name`, if recorded.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// A log event as captured: its message and the spans it was in.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// The `message` field.
    pub message: String,
    /// The indices (in [`Captured::spans`]) of the spans it was in, innermost first.
    pub scope: Vec<usize>,
}

/// Everything a [`SpanCapture`] saw, in order.
#[derive(Debug, Default)]
pub struct Captured {
    /// Every span created.
    pub spans: Vec<SpanRecord>,
    ids: HashMap<Id, usize>,
    /// Every log event.
    pub events: Vec<EventRecord>,
}

/// Captures every span (with its fields as recorded) and every event.
#[derive(Debug, Clone, Default)]
pub struct SpanCapture(Arc<Mutex<Captured>>);

impl SpanCapture {
    /// The capture installed as the global subscriber of this test process
    /// on first use. (A thread's default subscriber would miss spans whose
    /// callsite interest another test thread, without a subscriber, cached
    /// first.) It sees every test's spans: a test finds its own by a field
    /// unique to it.
    ///
    /// # Panics
    /// When another global subscriber was installed first.
    pub fn global() -> &'static SpanCapture {
        static CAPTURE: OnceLock<SpanCapture> = OnceLock::new();
        CAPTURE.get_or_init(|| {
            let capture = SpanCapture::default();
            tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(capture.clone()),
            )
            .expect("no other global subscriber in this test process");
            capture
        })
    }

    /// What was captured so far.
    pub fn captured(&self) -> MutexGuard<'_, Captured> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SpanCapture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut captured = self.captured();
        let parent = ctx
            .span(id)
            .and_then(|span| span.parent())
            .and_then(|parent| captured.ids.get(&parent.id()).copied());
        captured.spans.push(SpanRecord {
            name: attrs.metadata().name(),
            target: attrs.metadata().target().to_string(),
            fields,
            parent,
        });
        let index = captured.spans.len() - 1;
        captured.ids.insert(id.clone(), index);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut captured = self.captured();
        if let Some(&index) = captured.ids.get(id) {
            values.record(&mut Fields(&mut captured.spans[index].fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let mut captured = self.captured();
        let scope = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .filter_map(|span| captured.ids.get(&span.id()).copied())
                    .collect()
            })
            .unwrap_or_default();
        captured.events.push(EventRecord {
            message: fields.remove("message").unwrap_or_default(),
            scope,
        });
    }
}

/// A counter or gauge by name and sorted labels (`name{a=x,b=y}`).
type Values = Mutex<BTreeMap<String, Arc<AtomicU64>>>;

/// Keeps counters and gauges (gauges as `f64` bits); histograms are dropped.
#[derive(Debug, Default)]
pub struct TestRecorder {
    counters: Values,
    gauges: Values,
}

fn key_text(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    if labels.is_empty() {
        key.name().to_string()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

fn cell(values: &Values, key: &Key) -> Arc<AtomicU64> {
    values
        .lock()
        .unwrap()
        .entry(key_text(key))
        .or_default()
        .clone()
}

impl Recorder for TestRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(cell(&self.counters, key))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(cell(&self.gauges, key))
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

impl TestRecorder {
    /// Every counter, as `name{label=value,...}` (labels sorted) → value.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.counters
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.load(Ordering::Relaxed)))
            .collect()
    }

    /// The counter `key` (`name{label=value,...}`, labels sorted); 0 when
    /// never incremented.
    pub fn counter(&self, key: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(key)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// The gauge `key` (as for [`counter`](Self::counter)); 0 when never set.
    pub fn gauge(&self, key: &str) -> f64 {
        self.gauges
            .lock()
            .unwrap()
            .get(key)
            .map_or(0.0, |g| f64::from_bits(g.load(Ordering::Relaxed)))
    }
}
