//! An executor's tasks by id.

use std::collections::HashMap;

/// Up to this many tasks are kept in a vector searched in order; more go to
/// a hash map.
const FEW: usize = 8;

/// An executor's tasks by id. Most executors run a few tasks at once (a
/// command task's executor runs exactly one), and a hash map of one entry
/// has room for four: a few tasks are kept in a vector of their exact
/// number, more in a map. Iteration order is unspecified, as a map's.
#[derive(Debug)]
pub(super) enum TaskMap<V> {
    Few(Vec<(String, V)>),
    Many(HashMap<String, V>),
}

impl<V> Default for TaskMap<V> {
    fn default() -> Self {
        TaskMap::Few(Vec::new())
    }
}

impl<V> TaskMap<V> {
    pub(super) fn get(&self, id: &str) -> Option<&V> {
        match self {
            TaskMap::Few(few) => few.iter().find(|(k, _)| k == id).map(|(_, v)| v),
            TaskMap::Many(many) => many.get(id),
        }
    }

    pub(super) fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        match self {
            TaskMap::Few(few) => few.iter_mut().find(|(k, _)| k == id).map(|(_, v)| v),
            TaskMap::Many(many) => many.get_mut(id),
        }
    }

    /// Adds `value` under `id`; returns the value it replaces.
    pub(super) fn insert(&mut self, id: String, value: V) -> Option<V> {
        match self {
            TaskMap::Few(few) => {
                if let Some((_, old)) = few.iter_mut().find(|(k, _)| *k == id) {
                    return Some(std::mem::replace(old, value));
                }
                if few.len() < FEW {
                    few.reserve_exact(1);
                    few.push((id, value));
                } else {
                    let mut many: HashMap<String, V> = std::mem::take(few).into_iter().collect();
                    many.insert(id, value);
                    *self = TaskMap::Many(many);
                }
                None
            }
            TaskMap::Many(many) => many.insert(id, value),
        }
    }

    pub(super) fn remove(&mut self, id: &str) -> Option<V> {
        match self {
            TaskMap::Few(few) => {
                let at = few.iter().position(|(k, _)| k == id)?;
                Some(few.swap_remove(at).1)
            }
            TaskMap::Many(many) => many.remove(id),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        let (few, many) = match self {
            TaskMap::Few(few) => (Some(few.iter().map(|(k, v)| (k, v))), None),
            TaskMap::Many(many) => (None, Some(many.iter())),
        };
        few.into_iter().flatten().chain(many.into_iter().flatten())
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &String> {
        self.iter().map(|(k, _)| k)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(map: &TaskMap<u32>) -> Vec<(String, u32)> {
        let mut all: Vec<(String, u32)> = map.iter().map(|(k, v)| (k.clone(), *v)).collect();
        all.sort();
        all
    }

    #[test]
    fn behaves_as_a_map_below_and_beyond_the_few() {
        let mut map = TaskMap::default();
        let mut model = std::collections::BTreeMap::new();
        // Inserts past FEW (the switch to a hash map), replacements,
        // removals and reinsertions, checked against a map at every step.
        for step in 0..40u32 {
            let id = format!("task-{}", step % 13);
            if step % 5 == 4 {
                assert_eq!(map.remove(&id), model.remove(&id), "remove {id}");
            } else {
                assert_eq!(map.insert(id.clone(), step), model.insert(id.clone(), step));
            }
            assert_eq!(map.get(&id), model.get(&id));
            assert_eq!(map.iter().next().is_none(), model.is_empty());
            let expected: Vec<(String, u32)> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
            assert_eq!(sorted(&map), expected, "after step {step}");
        }
        assert!(matches!(map, TaskMap::Many(_)));
        if let Some(v) = map.get_mut("task-1") {
            *v = 1000;
        }
        assert_eq!(map.get("task-1"), Some(&1000));
        assert_eq!(map.keys().count(), model.len());
        assert_eq!(map.values().count(), model.len());
    }

    #[test]
    fn one_task_takes_room_for_one() {
        let mut map = TaskMap::default();
        map.insert("only".to_string(), 1u32);
        match &map {
            TaskMap::Few(few) => assert_eq!(few.capacity(), 1),
            TaskMap::Many(_) => panic!("one task in a hash map"),
        }
        assert_eq!(map.remove("only"), Some(1));
        assert_eq!(map.remove("only"), None);
        assert!(map.iter().next().is_none());
    }
}
