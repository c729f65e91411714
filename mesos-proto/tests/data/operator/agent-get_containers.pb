	R¡
ž
+
)976dcc62-39e3-491b-babd-3f8da7b4be3e-0000
probe-task-1796594369JCommand Executor (Task: probe-task-1796594369) (Command: sh -c 'sleep 40')"&
$8334f236-ddfb-4677-925c-62548192a2d1*+¬4"&
$8334f236-ddfb-4677-925c-62548192a2d125	]Å<±vÅÚAš™™™™™©?{®Gáz”?(€€ù0€€€ °€€€ éš™™™™™É?