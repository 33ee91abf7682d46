# A recording TCP proxy, for making seed corpora of real MQTT streams (fuzz/corpus/mqtt_frame,
# docs/TESTING.md): listens on 127.0.0.1:LISTEN, forwards each connection to 127.0.0.1:TARGET
# (a mosquitto), and writes its two directions to OUT/<n>-up.bin (client to broker) and
# OUT/<n>-down.bin. Loopback only; stop it with Ctrl-C.
# Usage: python3 fuzz/record_mqtt.py LISTEN TARGET OUT
import socket, sys, threading, os
listen, target, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', listen)); srv.listen(16)
def pump(a, b, path):
    with open(path, 'wb') as f:
        while True:
            d = a.recv(65536)
            if not d: break
            f.write(d); f.flush()
            try: b.sendall(d)
            except OSError: break
    try: b.shutdown(socket.SHUT_WR)
    except OSError: pass
n = 0
while True:
    c, _ = srv.accept(); n += 1
    u = socket.create_connection(('127.0.0.1', target))
    threading.Thread(target=pump, args=(c, u, os.path.join(out, '%d-up.bin' % n)), daemon=True).start()
    threading.Thread(target=pump, args=(u, c, os.path.join(out, '%d-down.bin' % n)), daemon=True).start()
