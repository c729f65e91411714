
ZP
N
L
rootreal-mesos-probe+
)976dcc62-39e3-491b-babd-3f8da7b4be3e-0000Rb*