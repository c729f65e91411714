//! The calls masters and agents both serve, with the same names and shapes
//! in their own protobuf packages (`mesos.v1.master`, `mesos.v1.agent`):
//! health, flags, version, metrics, logging level, files. One definition,
//! expanded for [`MasterClient`](crate::MasterClient) and
//! [`AgentClient`](crate::AgentClient).

/// Implements the shared calls on `$client`, whose wire types are
/// `mesos_proto::v1::$proto` and which calls itself `$who` in the docs.
macro_rules! shared_calls {
    ($client:ty, $proto:ident, $who:literal, $files:literal) => {
        impl $client {
            #[doc = concat!("`GET_HEALTH`: whether the ", $who, " is healthy.")]
            pub async fn get_health(
                &self,
            ) -> Result<mesos_proto::v1::$proto::response::GetHealth, $crate::Error> {
                self.query(call(Type::GetHealth), |r| r.get_health).await
            }

            #[doc = concat!("`GET_FLAGS`: the ", $who, "'s flags (name and value).")]
            pub async fn get_flags(
                &self,
            ) -> Result<mesos_proto::v1::$proto::response::GetFlags, $crate::Error> {
                self.query(call(Type::GetFlags), |r| {
                    Some(r.get_flags.unwrap_or_default())
                })
                .await
            }

            #[doc = concat!("`GET_VERSION`: the ", $who, "'s version (`version_info.version`, e.g. `\"1.11.0\"`) and build.")]
            pub async fn get_version(
                &self,
            ) -> Result<mesos_proto::v1::$proto::response::GetVersion, $crate::Error> {
                self.query(call(Type::GetVersion), |r| r.get_version).await
            }

            #[doc = concat!("`GET_METRICS`: a snapshot of the ", $who, "'s metrics; with `timeout`, how long it may take to collect them.")]
            pub async fn get_metrics(
                &self,
                timeout: Option<std::time::Duration>,
            ) -> Result<mesos_proto::v1::$proto::response::GetMetrics, $crate::Error> {
                let call = Call {
                    get_metrics: Some(mesos_proto::v1::$proto::call::GetMetrics {
                        timeout: timeout.map($crate::calls::duration_info),
                    }),
                    ..call(Type::GetMetrics)
                };
                self.query(call, |r| Some(r.get_metrics.unwrap_or_default()))
                    .await
            }

            #[doc = concat!("`GET_LOGGING_LEVEL`: the ", $who, "'s glog verbosity level.")]
            pub async fn get_logging_level(
                &self,
            ) -> Result<mesos_proto::v1::$proto::response::GetLoggingLevel, $crate::Error> {
                self.query(call(Type::GetLoggingLevel), |r| r.get_logging_level)
                    .await
            }

            #[doc = concat!("`SET_LOGGING_LEVEL`: sets the ", $who, "'s glog verbosity `level` for `duration`, after which it reverts.")]
            pub async fn set_logging_level(
                &self,
                level: u32,
                duration: std::time::Duration,
            ) -> Result<(), $crate::Error> {
                self.execute(Call {
                    set_logging_level: Some(mesos_proto::v1::$proto::call::SetLoggingLevel {
                        level,
                        duration: $crate::calls::duration_info(duration),
                    }),
                    ..call(Type::SetLoggingLevel)
                })
                .await
            }

            #[doc = concat!("`LIST_FILES`: the files under a virtual `path` of the ", $who, "'s file browser (", $files, ").")]
            pub async fn list_files(
                &self,
                path: &str,
            ) -> Result<mesos_proto::v1::$proto::response::ListFiles, $crate::Error> {
                let call = Call {
                    list_files: Some(mesos_proto::v1::$proto::call::ListFiles {
                        path: path.into(),
                    }),
                    ..call(Type::ListFiles)
                };
                self.query(call, |r| Some(r.list_files.unwrap_or_default()))
                    .await
            }

            #[doc = concat!("`READ_FILE`: up to `length` bytes (all when `None`) of the file at a virtual `path` of the ", $who, "'s file browser from `offset`, and the file's size.")]
            pub async fn read_file(
                &self,
                path: &str,
                offset: u64,
                length: Option<u64>,
            ) -> Result<mesos_proto::v1::$proto::response::ReadFile, $crate::Error> {
                let call = Call {
                    read_file: Some(mesos_proto::v1::$proto::call::ReadFile {
                        path: path.into(),
                        offset,
                        length,
                    }),
                    ..call(Type::ReadFile)
                };
                self.query(call, |r| r.read_file).await
            }
        }
    };
}

pub(crate) use shared_calls;
